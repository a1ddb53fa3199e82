package io.stratus.cache;

/**
 * When a block reaches the disk tier.
 *
 * <p>Measured in {@code bench} ({@code HybridCacheBenchmark}, see {@code docs/cache.md}):
 * {@link #WRITE_ON_EVICT} is the default because it writes only blocks that outlive their stay in
 * memory and keeps memory and disk mostly exclusive, so the two tiers together hold more distinct
 * blocks.
 */
public enum DiskWritePolicy {
  /** Every block loaded from the object store is also written to disk, right away. */
  WRITE_THROUGH,
  /**
   * A block is written to disk when the memory tier evicts it, unless disk already has it (a
   * block promoted from disk keeps its disk copy, so a second eviction costs no write).
   */
  WRITE_ON_EVICT
}
