package io.stratus.runtime.sink;

/** Writes one task's output; called on that task's thread only. */
public interface SinkWriter<T> extends AutoCloseable {

  void write(T record) throws Exception;

  /** Called when the task's input has ended. */
  @Override
  default void close() throws Exception {}
}
