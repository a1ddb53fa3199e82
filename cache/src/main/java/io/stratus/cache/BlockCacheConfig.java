package io.stratus.cache;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Sizes and policies of a {@link HybridBlockCache}. Defaults fit a laptop: 256 MiB of heap, 1 GiB
 * of local disk in a fresh temporary directory, write-on-evict.
 *
 * @param memoryBytes          bound of the memory tier in bytes (heap used by cached blocks and
 *                             their keys); at least 1 MiB
 * @param diskBytes            bound of the disk tier in bytes, file headers included; 0 turns
 *                             the disk tier off
 * @param diskDirectory        where the disk tier keeps its files, or {@code null} for a fresh
 *                             temporary directory; the cache owns the directory's content and
 *                             empties it at start and close
 * @param diskWritePolicy      when blocks are written to disk
 * @param diskReadThreads      threads that read disk-tier files (disk writes use one more thread)
 * @param maxPendingWriteBytes bytes of evicted blocks that may wait for their disk write; beyond
 *                             it, evicted blocks are dropped rather than buffered
 */
public record BlockCacheConfig(
    long memoryBytes,
    long diskBytes,
    Path diskDirectory,
    DiskWritePolicy diskWritePolicy,
    int diskReadThreads,
    long maxPendingWriteBytes) {

  public static final long DEFAULT_MEMORY_BYTES = 256L << 20;
  public static final long DEFAULT_DISK_BYTES = 1L << 30;

  public BlockCacheConfig {
    if (memoryBytes < (1 << 20)) {
      throw new IllegalArgumentException(
          "cache memoryBytes must be at least 1 MiB, was " + memoryBytes);
    }
    if (diskBytes < 0) {
      throw new IllegalArgumentException("cache diskBytes must be >= 0, was " + diskBytes);
    }
    Objects.requireNonNull(diskWritePolicy, "diskWritePolicy");
    if (diskReadThreads < 1) {
      throw new IllegalArgumentException(
          "cache diskReadThreads must be >= 1, was " + diskReadThreads);
    }
    if (maxPendingWriteBytes < 0) {
      throw new IllegalArgumentException(
          "cache maxPendingWriteBytes must be >= 0, was " + maxPendingWriteBytes);
    }
  }

  /** The laptop defaults. */
  public static BlockCacheConfig defaults() {
    return new BlockCacheConfig(
        DEFAULT_MEMORY_BYTES, DEFAULT_DISK_BYTES, null, DiskWritePolicy.WRITE_ON_EVICT, 2, 64L << 20);
  }

  /** A cache that keeps blocks in memory only. */
  public static BlockCacheConfig memoryOnly(long memoryBytes) {
    return defaults().withMemoryBytes(memoryBytes).withDiskBytes(0);
  }

  public BlockCacheConfig withMemoryBytes(long bytes) {
    return new BlockCacheConfig(bytes, diskBytes, diskDirectory, diskWritePolicy, diskReadThreads,
        maxPendingWriteBytes);
  }

  public BlockCacheConfig withDiskBytes(long bytes) {
    return new BlockCacheConfig(memoryBytes, bytes, diskDirectory, diskWritePolicy,
        diskReadThreads, maxPendingWriteBytes);
  }

  public BlockCacheConfig withDiskDirectory(Path directory) {
    return new BlockCacheConfig(memoryBytes, diskBytes, directory, diskWritePolicy,
        diskReadThreads, maxPendingWriteBytes);
  }

  public BlockCacheConfig withDiskWritePolicy(DiskWritePolicy policy) {
    return new BlockCacheConfig(memoryBytes, diskBytes, diskDirectory, policy, diskReadThreads,
        maxPendingWriteBytes);
  }

  public BlockCacheConfig withDiskReadThreads(int threads) {
    return new BlockCacheConfig(memoryBytes, diskBytes, diskDirectory, diskWritePolicy, threads,
        maxPendingWriteBytes);
  }

  public BlockCacheConfig withMaxPendingWriteBytes(long bytes) {
    return new BlockCacheConfig(memoryBytes, diskBytes, diskDirectory, diskWritePolicy,
        diskReadThreads, bytes);
  }
}
