package io.stratus.store.lsm;

import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.keygroup.KeyGroups;

/**
 * Tuning of one {@link StateStore}. The defaults follow what Flink configures for RocksDB (64 MiB
 * write buffers, 64 MiB target files, 256 MiB level 1, multiplier 10), except for 16 KiB blocks:
 * a block is the unit of a ranged GET, and larger blocks amortize a request's latency. Every
 * option is listed in {@code docs/configuration.md}.
 *
 * @param memtableBytes         a memtable is sealed and flushed when it reaches this size
 * @param maxImmutableMemtables sealed memtables waiting for their flush before writers stall
 * @param blockSize             target size of SST data blocks
 * @param bloomBitsPerKey       Bloom filter bits per key (10: about 1% false positives)
 * @param targetFileBytes       compaction splits its output at this size
 * @param l0CompactionTrigger   level-0 files that start a compaction into level 1
 * @param l0StopWritesTrigger   level-0 files at which writers stall until compaction catches up
 * @param level1TargetBytes     target size of level 1; level n+1 is {@code levelMultiplier} times
 *                              level n
 * @param levelMultiplier       growth factor between levels
 * @param levels                number of levels, level 0 included
 * @param maxParallelism        the key-group space
 * @param compactionEnabled     whether background compaction runs (tests turn it off to pin files)
 * @param compactionReadaheadBytes bytes per ranged read when compaction reads its input files
 * @param cacheWrittenBlocks       put the blocks of flushed and compacted files into the block
 *                                 cache as they are written (RocksDB's
 *                                 {@code prepopulate_block_cache}), so reads after a flush or
 *                                 compaction do not all go to the object store
 * @param handoverBlocks           at most this many of the worker cache's hottest blocks of
 *                                 the store's files go with each checkpoint, so that the next
 *                                 owner of its key groups (after a rescale or a recovery) loads
 *                                 them first; 0 turns the handover off
 * @param deltaIntervalMillis      writes not yet in an SST file are uploaded at least this often,
 *                                 as a small file only checkpoints use (a delta), so that a
 *                                 checkpoint uploads the last interval's writes at most, at any
 *                                 write rate; 0 uploads them at checkpoints only
 */
public record StoreOptions(
    long memtableBytes,
    int maxImmutableMemtables,
    int blockSize,
    int bloomBitsPerKey,
    long targetFileBytes,
    int l0CompactionTrigger,
    int l0StopWritesTrigger,
    long level1TargetBytes,
    int levelMultiplier,
    int levels,
    int maxParallelism,
    boolean compactionEnabled,
    long compactionReadaheadBytes, boolean cacheWrittenBlocks, int handoverBlocks,
    long deltaIntervalMillis) {

  public StoreOptions {
    require(memtableBytes >= 64 * 1024, "memtableBytes must be >= 64 KiB", memtableBytes);
    require(maxImmutableMemtables >= 1, "maxImmutableMemtables must be >= 1",
        maxImmutableMemtables);
    require(blockSize >= 256 && blockSize <= (16 << 20), "blockSize must be in [256, 16 MiB]",
        blockSize);
    require(bloomBitsPerKey >= 1 && bloomBitsPerKey <= 64, "bloomBitsPerKey must be in [1, 64]",
        bloomBitsPerKey);
    require(targetFileBytes >= blockSize, "targetFileBytes must be >= blockSize", targetFileBytes);
    require(targetFileBytes <= (1L << 30), "targetFileBytes must be <= 1 GiB", targetFileBytes);
    require(l0CompactionTrigger >= 1, "l0CompactionTrigger must be >= 1", l0CompactionTrigger);
    require(l0StopWritesTrigger > l0CompactionTrigger,
        "l0StopWritesTrigger must exceed l0CompactionTrigger", l0StopWritesTrigger);
    require(level1TargetBytes >= targetFileBytes, "level1TargetBytes must be >= targetFileBytes",
        level1TargetBytes);
    require(levelMultiplier >= 2, "levelMultiplier must be >= 2", levelMultiplier);
    require(levels >= 2 && levels <= 12, "levels must be in [2, 12]", levels);
    KeyGroups.checkParallelism(maxParallelism, 1);
    require(compactionReadaheadBytes >= blockSize, "compactionReadaheadBytes must be >= blockSize",
        compactionReadaheadBytes);
    require(handoverBlocks >= 0, "handoverBlocks must be >= 0", handoverBlocks);
    require(deltaIntervalMillis >= 0, "deltaIntervalMillis must be >= 0", deltaIntervalMillis);
  }

  private static void require(boolean ok, String rule, long value) {
    if (!ok) {
      throw new IllegalArgumentException("store option " + rule + ", was " + value);
    }
  }

  /** The defaults, for max parallelism 128. */
  public static StoreOptions defaults() {
    return new StoreOptions(64L << 20, 2, 16 << 10, 10, 64L << 20, 4, 20, 256L << 20, 10, 7,
        KeyGroups.DEFAULT_MAX_PARALLELISM, true, 8L << 20, true, 4096, 500);
  }

  /** Small buffers and files, so tests exercise flushes and compactions with little data. */
  public static StoreOptions small() {
    return new StoreOptions(64 << 10, 2, 1 << 10, 10, 64 << 10, 2, 12, 256 << 10, 4, 5,
        KeyGroups.DEFAULT_MAX_PARALLELISM, true, 64 << 10, true, 4096, 500);
  }

  public StoreOptions withMemtableBytes(long v) {
    return new StoreOptions(v, maxImmutableMemtables, blockSize, bloomBitsPerKey, targetFileBytes,
        l0CompactionTrigger, l0StopWritesTrigger, level1TargetBytes, levelMultiplier, levels,
        maxParallelism, compactionEnabled, compactionReadaheadBytes,
        cacheWrittenBlocks, handoverBlocks,
        deltaIntervalMillis);
  }

  public StoreOptions withBlockSize(int v) {
    return new StoreOptions(memtableBytes, maxImmutableMemtables, v, bloomBitsPerKey,
        targetFileBytes, l0CompactionTrigger, l0StopWritesTrigger, level1TargetBytes,
        levelMultiplier, levels, maxParallelism, compactionEnabled, compactionReadaheadBytes,
        cacheWrittenBlocks, handoverBlocks,
        deltaIntervalMillis);
  }

  public StoreOptions withTargetFileBytes(long v) {
    return new StoreOptions(memtableBytes, maxImmutableMemtables, blockSize, bloomBitsPerKey, v,
        l0CompactionTrigger, l0StopWritesTrigger, level1TargetBytes, levelMultiplier, levels,
        maxParallelism, compactionEnabled, compactionReadaheadBytes,
        cacheWrittenBlocks, handoverBlocks,
        deltaIntervalMillis);
  }

  public StoreOptions withLevel1TargetBytes(long v) {
    return new StoreOptions(memtableBytes, maxImmutableMemtables, blockSize, bloomBitsPerKey,
        targetFileBytes, l0CompactionTrigger, l0StopWritesTrigger, v, levelMultiplier, levels,
        maxParallelism, compactionEnabled, compactionReadaheadBytes,
        cacheWrittenBlocks, handoverBlocks,
        deltaIntervalMillis);
  }

  public StoreOptions withL0Triggers(int compaction, int stopWrites) {
    return new StoreOptions(memtableBytes, maxImmutableMemtables, blockSize, bloomBitsPerKey,
        targetFileBytes, compaction, stopWrites, level1TargetBytes, levelMultiplier, levels,
        maxParallelism, compactionEnabled, compactionReadaheadBytes,
        cacheWrittenBlocks, handoverBlocks,
        deltaIntervalMillis);
  }

  public StoreOptions withMaxParallelism(int v) {
    return new StoreOptions(memtableBytes, maxImmutableMemtables, blockSize, bloomBitsPerKey,
        targetFileBytes, l0CompactionTrigger, l0StopWritesTrigger, level1TargetBytes,
        levelMultiplier, levels, v, compactionEnabled, compactionReadaheadBytes,
        cacheWrittenBlocks, handoverBlocks,
        deltaIntervalMillis);
  }

  public StoreOptions withCompactionEnabled(boolean v) {
    return new StoreOptions(memtableBytes, maxImmutableMemtables, blockSize, bloomBitsPerKey,
        targetFileBytes, l0CompactionTrigger, l0StopWritesTrigger, level1TargetBytes,
        levelMultiplier, levels, maxParallelism, v, compactionReadaheadBytes, cacheWrittenBlocks, handoverBlocks,
        deltaIntervalMillis);
  }

  public StoreOptions withCacheWrittenBlocks(boolean v) {
    return new StoreOptions(memtableBytes, maxImmutableMemtables, blockSize, bloomBitsPerKey,
        targetFileBytes, l0CompactionTrigger, l0StopWritesTrigger, level1TargetBytes,
        levelMultiplier, levels, maxParallelism, compactionEnabled, compactionReadaheadBytes, v, handoverBlocks,
        deltaIntervalMillis);
  }

  public StoreOptions withMaxImmutableMemtables(int v) {
    return new StoreOptions(memtableBytes, v, blockSize, bloomBitsPerKey, targetFileBytes,
        l0CompactionTrigger, l0StopWritesTrigger, level1TargetBytes, levelMultiplier, levels,
        maxParallelism, compactionEnabled, compactionReadaheadBytes,
        cacheWrittenBlocks, handoverBlocks,
        deltaIntervalMillis);
  }

  public StoreOptions withHandoverBlocks(int v) {
    return new StoreOptions(memtableBytes, maxImmutableMemtables, blockSize, bloomBitsPerKey,
        targetFileBytes, l0CompactionTrigger, l0StopWritesTrigger, level1TargetBytes,
        levelMultiplier, levels, maxParallelism, compactionEnabled, compactionReadaheadBytes,
        cacheWrittenBlocks, v,
        deltaIntervalMillis);
  }

  public StoreOptions withDeltaIntervalMillis(long v) {
    return new StoreOptions(memtableBytes, maxImmutableMemtables, blockSize, bloomBitsPerKey,
        targetFileBytes, l0CompactionTrigger, l0StopWritesTrigger, level1TargetBytes,
        levelMultiplier, levels, maxParallelism, compactionEnabled, compactionReadaheadBytes,
        cacheWrittenBlocks, handoverBlocks, v);
  }

  /** Target size of level {@code level} (level 1 and up). */
  long levelTargetBytes(int level) {
    long target = level1TargetBytes;
    for (int i = 1; i < level; i++) {
      target = target > Long.MAX_VALUE / levelMultiplier ? Long.MAX_VALUE
          : target * levelMultiplier;
    }
    return target;
  }

  /** The key groups of the whole key-group space. */
  KeyGroupRange allKeyGroups() {
    return KeyGroupRange.all(maxParallelism);
  }
}
