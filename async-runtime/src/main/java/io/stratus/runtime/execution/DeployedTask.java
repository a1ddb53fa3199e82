package io.stratus.runtime.execution;

import io.stratus.runtime.source.SourceReader;
import io.stratus.runtime.source.SplitLag;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** A task running on this worker, as its worker controls it. */
public interface DeployedTask {

  TaskSpec spec();

  /** Whether it reads a source (sources start after the tasks they feed). */
  default boolean isSource() {
    return false;
  }

  /** Starts processing; the returned future completes when the task has terminated. */
  CompletableFuture<Void> start();

  /**
   * Injects barrier {@code checkpointId} at a source task; other tasks ignore it. With
   * {@code halt} the source emits nothing after the barrier (a rescale or stop follows: the
   * tasks then hold exactly the state of the checkpoint).
   */
  void triggerCheckpoint(long checkpointId, boolean halt);

  /**
   * Stops the task at once (restart, cancel, lost worker); state is not snapshotted. Completes
   * once the task's thread runs nothing more of it that could touch its state: only then may
   * {@link #releaseState()} run.
   */
  CompletableFuture<Void> cancel();

  /** Closes the task's state (its backend) once it has stopped; shared files stay. */
  void releaseState();

  /** About how many bytes of keyed state the task holds (0 for sources). */
  long stateBytes();

  /** Records taken in so far. */
  long records();

  /** The most records a keyed task had in flight at once (0 for sources). */
  int maxObservedInFlight();

  /** A source's lag per split as of about a second ago ({@link SourceReader#lag()}). */
  default Map<String, SplitLag> sourceLag() {
    return Map.of();
  }
}
