package io.stratus.runtime.sink;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Writes one task's output; called on that task's thread only. */
public interface SinkWriter<T> extends AutoCloseable {

  void write(T record) throws Exception;

  /**
   * A checkpoint barrier reached the sink: make what was written since the last checkpoint
   * durable but invisible, and name it for {@link Sink#commit} (two-phase commit). Sinks that
   * need no transactions return an empty list.
   *
   * @param checkpointId the checkpoint, or {@link Long#MAX_VALUE} for the end of input
   */
  default CompletableFuture<List<String>> prepareCommit(long checkpointId) {
    return CompletableFuture.completedFuture(List.of());
  }

  /** Called when the task's input has ended. */
  @Override
  default void close() throws Exception {}
}
