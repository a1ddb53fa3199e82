package io.stratus.runtime.state;

/**
 * What state futures need from the task that runs them: the record whose code is running, a
 * way to run code with a record's context on the task thread, and a way to fail the task.
 * Implemented by the async execution controller.
 */
public interface RecordExecution {

  /** The context whose code runs now on the task thread. */
  RecordContext currentContext();

  /** Whether the caller is the task thread. */
  boolean inTaskThread();

  /** Runs {@code action} on the task thread with {@code context} current. */
  void runInContext(RecordContext context, Runnable action);

  /** Fails the task: {@code error} was raised while processing {@code context}'s record. */
  void fail(RecordContext context, Throwable error);

  /**
   * A state access of {@code context}'s record failed in the backend, not in the record's own
   * code: never dead-lettered.
   */
  default void failStateAccess(RecordContext context, Throwable error) {
    fail(context, error);
  }
}
