package io.stratus.runtime.execution;

import java.util.concurrent.TimeUnit;

/**
 * How many records a keyed task lets wait (in flight in its operator, and queued in its inbox
 * from producers in the same process): as many as it completes in a target time, between a
 * floor and the configured maximum. This is Flink's buffer debloating applied to records: a
 * checkpoint barrier waits for the records ahead of it, so when state reads slow down (a cold
 * cache, an overloaded object store) a fixed bound of 1,000 records turns into seconds of
 * alignment, while a bound sized to the throughput keeps it near the target and costs no
 * throughput (the records beyond it would only have queued).
 *
 * <p>The throughput is measured over busy time only (while at least one record is in flight),
 * so an idle task keeps its limit for the next burst, and smoothed over windows of
 * {@value #WINDOW_MILLIS} ms. A limit that is too low raises itself: the records it admits
 * complete within their latency, and while that latency is below the target the next window's
 * limit is higher. Written on the task thread; {@link #current()} may be read from any.
 */
public final class DrainTimeLimit {

  static final int WINDOW_MILLIS = 100;
  private static final long WINDOW_NANOS = TimeUnit.MILLISECONDS.toNanos(WINDOW_MILLIS);
  /** Records always admitted: enough requests in flight to find out the store's latency. */
  static final int FLOOR = 16;
  private static final long IDLE = Long.MIN_VALUE;

  private final int max;
  private final long targetNanos;
  private volatile int current;
  private double ratePerNano = -1;
  private long windowStart;
  private long busyNanos;
  private long busySince = IDLE;
  private boolean started;
  private int completed;

  private DrainTimeLimit(int max, long targetNanos) {
    if (max < 1) {
      throw new IllegalArgumentException("in-flight limit must be >= 1, was " + max);
    }
    this.max = max;
    this.targetNanos = targetNanos;
    this.current = targetNanos == 0 ? max : Math.min(max, FLOOR);
  }

  /** Always {@code max}. */
  public static DrainTimeLimit fixed(int max) {
    return new DrainTimeLimit(max, 0);
  }

  /**
   * Starts at the floor and follows the throughput; a zero target means {@link #fixed}. Not at
   * {@code max}: a task that has just taken over key groups (a rescale, a recovery) reads them
   * from a cold cache, and {@code max} records admitted at once each queue a miss at the object
   * store; in the demo four new tasks queued thousands of them, and no record of the job
   * completed for 5 s. From the floor the limit reaches the throughput's level within a few
   * windows (it grows by target ÷ latency per window).
   *
   * @param targetMillis how long the records waiting may take to complete
   */
  public static DrainTimeLimit adaptive(int max, long targetMillis) {
    return new DrainTimeLimit(max, TimeUnit.MILLISECONDS.toNanos(targetMillis));
  }

  /** Records that may wait now. */
  public int current() {
    return current;
  }

  /** A record started while none was in flight: busy time begins. */
  void busy(long nowNanos) {
    if (busySince == IDLE) {
      busySince = nowNanos;
    }
    if (!started) {
      started = true;
      windowStart = nowNanos;
    }
  }

  /** A record completed; {@code idleNow} if it was the last in flight. */
  void completed(long nowNanos, boolean idleNow) {
    if (targetNanos == 0) {
      return;
    }
    completed++;
    if (idleNow && busySince != IDLE) {
      busyNanos += nowNanos - busySince;
      busySince = IDLE;
    }
    if (nowNanos - windowStart < WINDOW_NANOS) {
      return;
    }
    long busy = busyNanos + (busySince != IDLE ? nowNanos - busySince : 0);
    if (busySince != IDLE) {
      busySince = nowNanos;
    }
    if (busy > WINDOW_NANOS / 10) {
      double rate = completed / (double) busy;
      ratePerNano = ratePerNano < 0 ? rate : (ratePerNano + rate) / 2;
      current = (int) Math.min(max, Math.max(FLOOR, Math.ceil(ratePerNano * targetNanos)));
    }
    windowStart = nowNanos;
    busyNanos = 0;
    completed = 0;
  }
}
