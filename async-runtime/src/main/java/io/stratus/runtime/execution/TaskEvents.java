package io.stratus.runtime.execution;

import java.util.List;
import java.util.Map;

/**
 * What tasks report to whoever deployed them (the worker, which forwards it to the coordinator
 * over the event bus). Called from task threads.
 */
public interface TaskEvents {

  /** The task took its part of checkpoint {@code checkpointId}. */
  void snapshotTaken(TaskSpec task, long checkpointId, TaskSnapshot snapshot);

  /**
   * The task could not take its part of the checkpoint; the checkpoint must be aborted.
   * {@code staged} is sink output the task staged for this checkpoint all the same: it covers
   * records before the barrier, so it must be committed with the next checkpoint that completes
   * in this attempt, or it would be lost.
   */
  void snapshotFailed(TaskSpec task, long checkpointId, Throwable error, List<String> staged);

  /** The task completed its first record (or timer): the attempt is processing. */
  void firstRecordProcessed(TaskSpec task);

  /** The task failed; the attempt must be restarted. */
  void taskFailed(TaskSpec task, Throwable error);

  /**
   * The task processed all its input.
   *
   * @param sourcePosition a source's position at its end (null for other tasks): checkpoints
   *                       taken after it ended record it
   * @param committables the output staged at the end
   */
  void taskFinished(TaskSpec task, Map<String, Long> sourcePosition, List<String> committables);
}
