package io.stratus.runtime.execution;

import java.util.List;

/**
 * What tasks report to whoever deployed them (the worker, which forwards it to the coordinator
 * over the event bus). Called from task threads.
 */
public interface TaskEvents {

  /** The task took its part of checkpoint {@code checkpointId}. */
  void snapshotTaken(TaskSpec task, long checkpointId, TaskSnapshot snapshot);

  /** The task could not take its part of the checkpoint; the checkpoint must be aborted. */
  void snapshotFailed(TaskSpec task, long checkpointId, Throwable error);

  /** The task failed; the attempt must be restarted. */
  void taskFailed(TaskSpec task, Throwable error);

  /** The task processed all its input; {@code committables} is the output staged at the end. */
  void taskFinished(TaskSpec task, List<String> committables);
}
