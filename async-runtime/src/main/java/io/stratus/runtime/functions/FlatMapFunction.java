package io.stratus.runtime.functions;

import java.io.Serializable;

/** Transforms each record into zero or more records. */
@FunctionalInterface
public interface FlatMapFunction<IN, OUT> extends Serializable {
  void flatMap(IN value, Collector<OUT> out) throws Exception;
}
