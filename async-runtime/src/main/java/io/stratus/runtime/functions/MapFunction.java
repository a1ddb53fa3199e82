package io.stratus.runtime.functions;

import java.io.Serializable;

/** Transforms each record into one record. */
@FunctionalInterface
public interface MapFunction<IN, OUT> extends Serializable {
  OUT map(IN value) throws Exception;
}
