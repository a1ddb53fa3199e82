package io.stratus.scheduler;

import io.stratus.store.keygroup.KeyGroupRange;
import java.util.List;
import java.util.Map;

/**
 * A job's state as the coordinator reports it.
 *
 * @param name        the job
 * @param state       where it is in its life
 * @param attempt     the running attempt (each restart or rescale deploys a new one)
 * @param restarts    restarts after failures so far
 * @param parallelism tasks per keyed operator (by uid) and rescalable source (by name)
 * @param tasks       the running attempt's tasks
 * @param checkpoints recent completed checkpoints and savepoints, newest last
 * @param lastFailure the last failure, or null
 * @param abortedCheckpoints checkpoints aborted so far (declined, timed out, not written)
 * @param completedCheckpoints checkpoints and savepoints completed so far
 * @param recordsIn   records the sources emitted so far, all attempts (replays count again)
 * @param recordsPerSecond source records per second over the last few seconds
 * @param stateBytes  about how many bytes of keyed state the running tasks hold
 * @param lastRescale the last completed rescale, or null
 * @param lastRecovery the last restart after a failure that processed records again, or null
 */
public record JobStatus(String name, JobState state, int attempt, int restarts,
    Map<String, Integer> parallelism, List<TaskStatus> tasks, List<CheckpointSummary> checkpoints,
    String lastFailure, long abortedCheckpoints, long completedCheckpoints, long recordsIn,
    double recordsPerSecond, long stateBytes, RescaleReport lastRescale,
    RecoveryReport lastRecovery) {

  /**
   * One task.
   *
   * @param task      {@code <segment>/<subtask>}
   * @param operator  the operator's name (uid for keyed operators)
   * @param worker    where it runs
   * @param keyGroups its key groups (null for sources)
   * @param finished  whether it has processed all its input
   * @param records   records it took in (this attempt)
   * @param stateBytes about how many bytes of keyed state it holds
   */
  public record TaskStatus(String task, String operator, String worker, KeyGroupRange keyGroups,
      boolean finished, long records, long stateBytes) {}

  /**
   * One completed checkpoint or savepoint.
   *
   * @param id             its number
   * @param kind           checkpoint or savepoint
   * @param metadataKey    where its metadata is
   * @param durationMillis from trigger to completion
   * @param completedAt    epoch milliseconds
   * @param uploadedBytes  state bytes uploaded for it (incremental size, compaction excluded)
   * @param alignMillis    the longest any task waited for the barriers of all its inputs
   * @param drainMillis    the longest any task then waited for the records before them
   * @param snapshotMillis the longest any task's snapshot took (its last delta and manifest)
   * @param finalizeMillis from the last task's ack until the metadata was written
   */
  public record CheckpointSummary(long id, String kind, String metadataKey, long durationMillis,
      long completedAt, long uploadedBytes, long alignMillis, long drainMillis,
      long snapshotMillis, long finalizeMillis) {}
}
