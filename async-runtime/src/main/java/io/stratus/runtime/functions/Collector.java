package io.stratus.runtime.functions;

/** Where a function emits its output records. */
@FunctionalInterface
public interface Collector<T> {
  void collect(T record);
}
