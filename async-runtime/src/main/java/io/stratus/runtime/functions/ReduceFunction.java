package io.stratus.runtime.functions;

import java.io.Serializable;

/** Combines two values of the same key into one. */
@FunctionalInterface
public interface ReduceFunction<T> extends Serializable {
  T reduce(T a, T b) throws Exception;
}
