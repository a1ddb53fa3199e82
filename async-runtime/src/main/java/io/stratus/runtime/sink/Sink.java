package io.stratus.runtime.sink;

import java.time.Instant;
import java.util.List;
import java.util.Set;
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

  /**
   * Deletes output staged before {@code before} that is not in {@code keep}. Called once the job
   * has ended and every completed checkpoint's output is committed: what is still staged then
   * belonged to checkpoints that never completed (a killed task's, an aborted one's) and will
   * never be committed. {@code keep} holds the committables of the checkpoint a later run may
   * restore from (committing them again must still work). Staged output younger than
   * {@code before} may be a write still in flight from a task that has not stopped yet.
   *
   * @return how many staged objects were deleted
   */
  default CompletableFuture<Integer> abortStaged(Instant before, Set<String> keep) {
    return CompletableFuture.completedFuture(0);
  }
}
