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
 */
public record CheckpointConfig(Duration interval, Duration timeout, Duration minPause,
    int retained) {

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
  }

  /** Every 10 s, 10 min timeout, no pause, keep 3. */
  public static CheckpointConfig defaults() {
    return new CheckpointConfig(Duration.ofSeconds(10), Duration.ofMinutes(10), Duration.ZERO, 3);
  }

  public CheckpointConfig withInterval(Duration value) {
    return new CheckpointConfig(value, timeout, minPause, retained);
  }

  public CheckpointConfig withTimeout(Duration value) {
    return new CheckpointConfig(interval, value, minPause, retained);
  }

  public CheckpointConfig withMinPause(Duration value) {
    return new CheckpointConfig(interval, timeout, value, retained);
  }

  public CheckpointConfig withRetained(int value) {
    return new CheckpointConfig(interval, timeout, minPause, value);
  }
}
