package io.stratus.runtime.execution;

/**
 * A task failed: the message names the task, the record it was processing (and its key) and the
 * cause; the cause is the original exception.
 */
public class TaskFailureException extends RuntimeException {

  private final transient Object record;

  public TaskFailureException(String task, Object record, Object key, Throwable cause) {
    super("task " + task + " failed"
        + (record != null ? " processing record " + describe(record)
            + (key != null ? " of key " + describe(key) : "") : "")
        + ": " + cause, cause);
    this.record = record;
  }

  /** The record being processed, or {@code null}. */
  public Object record() {
    return record;
  }

  private static String describe(Object o) {
    String s = String.valueOf(o);
    return s.length() > 200 ? s.substring(0, 200) + "..." : s;
  }
}
