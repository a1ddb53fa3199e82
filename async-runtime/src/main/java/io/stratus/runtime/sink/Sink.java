package io.stratus.runtime.sink;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Where a job's output goes; one writer per parallel task.
 *
 * @param <T> the records
 */
public interface Sink<T> {

  SinkWriter<T> createWriter(int subtask, int parallelism);

  /**
   * Makes staged output visible once the checkpoint that staged it has completed. Must be
   * idempotent: after a failure the coordinator commits a completed checkpoint's output again.
   */
  default CompletableFuture<Void> commit(List<String> committables) {
    return CompletableFuture.completedFuture(null);
  }
}
