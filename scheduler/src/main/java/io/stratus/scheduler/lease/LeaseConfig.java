package io.stratus.scheduler.lease;

import java.time.Duration;

/**
 * How long a coordinator's lease on its bucket prefix lasts and how often it is renewed.
 * Listed with the other options in {@code docs/configuration.md}.
 *
 * @param ttl           a lease not renewed for this long may be taken over; a holder that
 *                      cannot renew within it steps down first
 * @param renewInterval time between renewals; at most a third of {@code ttl}, so that two
 *                      failed renewals in a row still leave time for a third
 */
public record LeaseConfig(Duration ttl, Duration renewInterval) {

  public LeaseConfig {
    if (ttl == null || renewInterval == null || renewInterval.isNegative()
        || renewInterval.isZero()) {
      throw new IllegalArgumentException("the lease needs a ttl and a positive renew interval, "
          + "were " + ttl + " and " + renewInterval);
    }
    if (renewInterval.multipliedBy(3).compareTo(ttl) > 0) {
      throw new IllegalArgumentException("the lease's renew interval " + renewInterval
          + " must be at most a third of its ttl " + ttl);
    }
  }

  /**
   * A 15 s lease renewed every 3 s (as Kubernetes' leader election): a holder steps down after
   * 12 s without a renewal, a contender waits 15 s for a holder that may still run elsewhere.
   */
  public static LeaseConfig defaults() {
    return new LeaseConfig(Duration.ofSeconds(15), Duration.ofSeconds(3));
  }
}
