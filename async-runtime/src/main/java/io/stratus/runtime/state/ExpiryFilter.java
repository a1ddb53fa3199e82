package io.stratus.runtime.state;

/**
 * Tells a backend's compaction which entries have expired (state TTL), so they are removed, not
 * only hidden from reads.
 */
@FunctionalInterface
public interface ExpiryFilter {

  /** Whether the entry has expired at {@code nowMillis}. */
  boolean expired(byte[] key, byte[] value, long nowMillis);

  ExpiryFilter NONE = (key, value, now) -> false;
}
