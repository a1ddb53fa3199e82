package io.stratus.cache;

/**
 * A point-in-time snapshot of a {@link HybridBlockCache}'s counters. Counters are cumulative since
 * the cache was created.
 *
 * @param memory        the memory tier
 * @param disk          the disk tier (all zero when it is off)
 * @param misses        lookups that went to the object store
 * @param remoteLoad    latency of object-store loads
 * @param diskLoad      latency of disk-tier reads that found the block
 * @param diskActive    whether the disk tier is in use (false when off or after a disk failure)
 * @param diskWritesDropped evicted blocks not written to disk because the write queue was full
 * @param diskBytesWritten  block bytes written to the disk tier
 */
public record CacheMetrics(
    TierMetrics memory,
    TierMetrics disk,
    long misses,
    LatencyHistogram.Summary remoteLoad,
    LatencyHistogram.Summary diskLoad,
    boolean diskActive,
    long diskWritesDropped,
    long diskBytesWritten) {

  /** Fraction of lookups served by either tier, or 0 before the first lookup. */
  public double hitRatio() {
    long hits = memory.hits() + disk.hits();
    long total = hits + misses;
    return total == 0 ? 0 : (double) hits / total;
  }

  /**
   * One tier's figures.
   *
   * @param hits             lookups this tier served
   * @param misses           lookups that passed this tier
   * @param evictions        entries evicted for size
   * @param bytesUsed        bytes held now
   * @param bytesMax         the tier's bound
   * @param entries          entries held now (an estimate)
   * @param checksumFailures entries dropped because they failed verification (disk only)
   */
  public record TierMetrics(long hits, long misses, long evictions, long bytesUsed, long bytesMax,
      long entries, long checksumFailures) {

    /** hits / (hits + misses), or 0 before the first lookup. */
    public double hitRatio() {
      long total = hits + misses;
      return total == 0 ? 0 : (double) hits / total;
    }
  }
}
