package io.stratus.runtime.execution;

import java.util.concurrent.CompletableFuture;

/** A task running on this worker, as its worker controls it. */
public interface DeployedTask {

  TaskSpec spec();

  /** Starts processing; the returned future completes when the task has terminated. */
  CompletableFuture<Void> start();

  /** Injects barrier {@code checkpointId} at a source task; other tasks ignore it. */
  void triggerCheckpoint(long checkpointId);

  /**
   * Stops the task at once (restart, cancel, lost worker); state is not snapshotted. Completes
   * once the task's thread runs nothing more of it that could touch its state: only then may
   * {@link #releaseState()} run.
   */
  CompletableFuture<Void> cancel();

  /** Closes the task's state (its backend) once it has stopped; shared files stay. */
  void releaseState();

  /** Records taken in so far. */
  long records();

  /** The most records a keyed task had in flight at once (0 for sources). */
  int maxObservedInFlight();
}
