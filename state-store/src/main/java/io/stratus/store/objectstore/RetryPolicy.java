package io.stratus.store.objectstore;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How an object store retries transient failures (S3 500/503 SlowDown, timeouts, reset
 * connections): exponential backoff with full jitter, so that many workers throttled at once do
 * not retry in lockstep.
 *
 * @param maxAttempts attempts in all, the first included; 1 means no retry
 * @param baseDelay   the upper bound of the first backoff
 * @param maxDelay    the cap of any backoff
 */
public record RetryPolicy(int maxAttempts, Duration baseDelay, Duration maxDelay) {

  public RetryPolicy {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("retry maxAttempts must be >= 1, was " + maxAttempts);
    }
    if (baseDelay.isNegative() || maxDelay.compareTo(baseDelay) < 0) {
      throw new IllegalArgumentException(
          "retry delays must satisfy 0 <= baseDelay <= maxDelay, were " + baseDelay + ", "
              + maxDelay);
    }
  }

  /** 8 attempts, 50 ms base, 5 s cap: rides out a few seconds of throttling. */
  public static RetryPolicy defaults() {
    return new RetryPolicy(8, Duration.ofMillis(50), Duration.ofSeconds(5));
  }

  /** Never retries. */
  public static RetryPolicy none() {
    return new RetryPolicy(1, Duration.ZERO, Duration.ZERO);
  }

  /** The backoff before attempt {@code attempt} (2 for the first retry): uniform in [0, cap]. */
  public long backoffMillis(int attempt) {
    long base = baseDelay.toMillis();
    long cap = Math.min(maxDelay.toMillis(), base << Math.min(20, Math.max(0, attempt - 2)));
    return cap <= 0 ? 0 : ThreadLocalRandom.current().nextLong(cap + 1);
  }
}
