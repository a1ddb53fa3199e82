package io.stratus.store.lsm;

/**
 * Lets compaction remove values that have expired (state TTL). An expired value becomes a
 * tombstone, or disappears where compaction writes the bottommost data of its key range, so no
 * older value of the key can come back.
 */
@FunctionalInterface
public interface CompactionFilter {

  /** Whether the value of {@code key} has expired. */
  boolean expired(byte[] key, byte[] value);
}
