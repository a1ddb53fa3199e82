package io.stratus.scheduler;

import java.time.Duration;

/**
 * How a failed job restarts from its last completed checkpoint: after a fixed delay or with
 * exponential backoff, at most {@code maxRestarts} times, after which the job fails.
 *
 * @param maxRestarts  restarts allowed in all
 * @param initialDelay delay before the first restart
 * @param maxDelay     cap of the delay
 * @param multiplier   growth of the delay per restart (1 for a fixed delay)
 */
public record RestartStrategy(int maxRestarts, Duration initialDelay, Duration maxDelay,
    double multiplier) {

  public RestartStrategy {
    if (maxRestarts < 0 || initialDelay.isNegative() || maxDelay.compareTo(initialDelay) < 0
        || multiplier < 1) {
      throw new IllegalArgumentException("restart strategy needs maxRestarts >= 0, "
          + "0 <= initialDelay <= maxDelay and multiplier >= 1");
    }
  }

  public static RestartStrategy fixedDelay(int maxRestarts, Duration delay) {
    return new RestartStrategy(maxRestarts, delay, delay, 1);
  }

  public static RestartStrategy exponentialBackoff(int maxRestarts, Duration initial,
      Duration max) {
    return new RestartStrategy(maxRestarts, initial, max, 2);
  }

  /** Never restart: the first failure fails the job. */
  public static RestartStrategy none() {
    return fixedDelay(0, Duration.ZERO);
  }

  /** The delay before restart number {@code restart} (1 for the first). */
  public Duration delayBefore(int restart) {
    double millis = initialDelay.toMillis() * Math.pow(multiplier, Math.max(0, restart - 1));
    return Duration.ofMillis((long) Math.min(maxDelay.toMillis(), millis));
  }
}
