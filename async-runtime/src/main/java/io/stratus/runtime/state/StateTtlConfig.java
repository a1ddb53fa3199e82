package io.stratus.runtime.state;

import java.time.Duration;

/**
 * Time to live of a state's entries: after {@code ttl} without the qualifying access an entry
 * is invisible at once and removed by compaction (where the backend compacts).
 *
 * @param ttl    how long an entry lives
 * @param update which accesses restart its clock
 */
public record StateTtlConfig(Duration ttl, UpdateType update) {

  /** Which accesses restart an entry's clock. */
  public enum UpdateType {
    /** Creation and every write. */
    ON_CREATE_AND_WRITE,
    /** Creation, every write and every read. */
    ON_READ_AND_WRITE
  }

  public StateTtlConfig {
    if (ttl == null || ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("state TTL must be positive, was " + ttl);
    }
    if (update == null) {
      throw new IllegalArgumentException("state TTL needs an update type");
    }
  }

  /** Expire after {@code ttl} since the last write. */
  public static StateTtlConfig afterWrite(Duration ttl) {
    return new StateTtlConfig(ttl, UpdateType.ON_CREATE_AND_WRITE);
  }

  /** Expire after {@code ttl} since the last read or write. */
  public static StateTtlConfig afterAccess(Duration ttl) {
    return new StateTtlConfig(ttl, UpdateType.ON_READ_AND_WRITE);
  }
}
