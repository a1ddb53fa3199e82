package io.stratus.scheduler;

import java.time.Duration;

/**
 * When and how a job checkpoints.
 *
 * @param interval  time between the start of two checkpoints; {@link Duration#ZERO} disables
 *                  periodic checkpoints (savepoints still work)
 * @param timeout   a checkpoint not complete after this is aborted
 * @param minPause  time between the end of one checkpoint and the start of the next
 * @param retained  completed checkpoints kept (older ones are deleted with the files only they
 *                  reference)
 * @param tolerableTimeouts checkpoints in a row that may time out before the attempt is
 *                  restarted from the last completed one: a task that never acks is stuck (a
 *                  worker thread died, say), and only a restart frees it. Flink's
 *                  {@code tolerable-failed-checkpoints} counts every failure (default 0); here a
 *                  decline or a failed write (the bucket briefly unreachable) never restarts a
 *                  job, and the next checkpoint tries again.
 */
public record CheckpointConfig(Duration interval, Duration timeout, Duration minPause,
    int retained, int tolerableTimeouts) {

  public CheckpointConfig {
    if (interval.isNegative() || timeout.isNegative() || timeout.isZero()
        || minPause.isNegative()) {
      throw new IllegalArgumentException("checkpoint interval and pause must be >= 0 and the "
          + "timeout > 0, were " + interval + ", " + minPause + ", " + timeout);
    }
    if (retained < 1) {
      throw new IllegalArgumentException("at least one checkpoint must be retained, was "
          + retained);
    }
    if (tolerableTimeouts < 0) {
      throw new IllegalArgumentException("tolerable checkpoint timeouts must be >= 0, was "
          + tolerableTimeouts);
    }
  }

  /** Every 10 s, 10 min timeout, no pause, keep 3, restart after the third timeout in a row. */
  public static CheckpointConfig defaults() {
    return new CheckpointConfig(Duration.ofSeconds(10), Duration.ofMinutes(10), Duration.ZERO, 3,
        2);
  }

  public CheckpointConfig withInterval(Duration value) {
    return new CheckpointConfig(value, timeout, minPause, retained, tolerableTimeouts);
  }

  public CheckpointConfig withTimeout(Duration value) {
    return new CheckpointConfig(interval, value, minPause, retained, tolerableTimeouts);
  }

  public CheckpointConfig withMinPause(Duration value) {
    return new CheckpointConfig(interval, timeout, value, retained, tolerableTimeouts);
  }

  public CheckpointConfig withRetained(int value) {
    return new CheckpointConfig(interval, timeout, minPause, value, tolerableTimeouts);
  }

  public CheckpointConfig withTolerableTimeouts(int value) {
    return new CheckpointConfig(interval, timeout, minPause, retained, value);
  }
}
