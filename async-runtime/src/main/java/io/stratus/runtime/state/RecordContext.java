package io.stratus.runtime.state;

/**
 * The record (or timer) whose code is running or waiting for state: its key, key group and
 * event timestamp. State calls made by that code, and the continuations of their futures, run
 * with this context current, so state accesses go to the right key even when records of many
 * keys are in flight. Reference-counted on the task thread: the record is complete when its own
 * code and every continuation it registered have run.
 */
public final class RecordContext {

  private final Object record;
  private final Object key;
  private final byte[] keyBytes;
  private final int keyGroup;
  private final long timestamp;
  private final Runnable body;
  private int references;
  private Runnable onComplete;
  private boolean failed;

  public RecordContext(Object record, Object key, byte[] keyBytes, int keyGroup, long timestamp,
      Runnable body) {
    this.record = record;
    this.key = key;
    this.keyBytes = keyBytes;
    this.keyGroup = keyGroup;
    this.timestamp = timestamp;
    this.body = body;
  }

  public Object record() {
    return record;
  }

  public Object key() {
    return key;
  }

  public byte[] keyBytes() {
    return keyBytes;
  }

  public int keyGroup() {
    return keyGroup;
  }

  /** The record's event timestamp, or {@link Long#MIN_VALUE} if it has none. */
  public long timestamp() {
    return timestamp;
  }

  /** The record's code; for the execution controller. */
  public Runnable bodyInternal() {
    return body;
  }

  /** What runs when the record completes; for the execution controller. */
  public void onCompleteInternal(Runnable action) {
    this.onComplete = action;
  }

  /** One more piece of work (the body, a continuation) that must run before completion. */
  public void retain() {
    references++;
  }

  /** That work has run; the last release completes the record. */
  public void release() {
    if (--references == 0 && onComplete != null) {
      Runnable done = onComplete;
      onComplete = null;
      done.run();
    }
  }

  /** Marks the record as failed; true the first time only (one failure is handled once). */
  public boolean markFailed() {
    if (failed) {
      return false;
    }
    failed = true;
    return true;
  }

  @Override
  public String toString() {
    return String.valueOf(record);
  }
}
