package io.stratus.bench;

import io.stratus.scheduler.JobController;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the keyed update function of a side-by-side run observes, in the JVM that runs it (one
 * contender per process): completed updates, when the measured phase started and ended, and
 * when the first record after a restore completed.
 */
public final class UpdateProgress {

  private static final AtomicLong COMPLETED = new AtomicLong();
  private static volatile long firstNanos;
  private static volatile long lastNanos;
  private static volatile long firstAfterRestoreNanos;
  private static volatile boolean restoring;

  private UpdateProgress() {}

  /** An update completed (its state write issued); {@code records} ends the measured phase. */
  public static void completed(long records) {
    long now = System.nanoTime();
    if (restoring) {
      if (firstAfterRestoreNanos == 0) {
        firstAfterRestoreNanos = now;
      }
      return;
    }
    long n = COMPLETED.incrementAndGet();
    if (n == 1) {
      firstNanos = now;
    }
    if (n == records) {
      lastNanos = now;
    }
  }

  public static long completedCount() {
    return COMPLETED.get();
  }

  /** Updates per second over the measured phase, once it has ended (else 0). */
  public static double updatesPerSecond(long records) {
    long last = lastNanos;
    return last == 0 ? 0 : (records - 1) * 1e9 / (last - firstNanos);
  }

  /**
   * Waits for the measured phase of {@code job} to end; returns its updates per second.
   *
   * @throws IllegalStateException if the job ends first or it takes longer than {@code max}
   */
  public static double await(long records, JobController job, Duration max)
      throws Exception {
    long deadline = System.nanoTime() + max.toNanos();
    while (updatesPerSecond(records) == 0) {
      if (System.nanoTime() > deadline || job.result().isDone()) {
        throw new IllegalStateException("the measured phase did not end: "
            + job.status().get());
      }
      Thread.sleep(20);
    }
    return updatesPerSecond(records);
  }

  /** From now on, completions only mark the first record after the restore. */
  public static void restoring() {
    firstAfterRestoreNanos = 0;
    restoring = true;
  }

  /** Nanotime of the first record completed after {@link #restoring()}, or 0. */
  public static long firstAfterRestoreNanos() {
    return firstAfterRestoreNanos;
  }
}
