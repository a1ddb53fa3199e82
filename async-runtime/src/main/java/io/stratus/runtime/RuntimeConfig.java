package io.stratus.runtime;

import io.stratus.runtime.state.DisaggregatedBackend;
import io.stratus.runtime.state.RocksDbBackend;
import io.stratus.store.keygroup.KeyGroups;
import io.stratus.store.lsm.StoreOptions;
import java.nio.file.Path;

/**
 * How jobs run: parallelism, state backend and the async execution limits. Defaults fit a
 * laptop. Listed with the other options in {@code docs/configuration.md}.
 *
 * @param parallelism       tasks per keyed operator unless the operator says otherwise
 * @param maxParallelism    key groups (1 to 32768)
 * @param backend           {@code disaggregated} (default), {@code rocksdb-local} or {@code heap}
 * @param maxInFlight       records per task started or waiting for their key, at most
 * @param channelCapacity   records buffered between two tasks
 * @param sourceBatch       records a source reads per poll
 * @param storeOptions      options of the disaggregated store
 * @param localStateDirectory where rocksdb-local keeps its files
 * @param rocksDbBlockCacheBytes the LRU block cache of each rocksdb-local task
 * @param inFlightTargetMillis records a keyed task lets wait (in flight, and queued from local
 *                          producers) are bounded by what it completes in this time, at most
 *                          {@code maxInFlight} ({@link
 *                          io.stratus.runtime.execution.DrainTimeLimit}); 0 = always
 *                          {@code maxInFlight}
 */
public record RuntimeConfig(int parallelism, int maxParallelism, String backend,
    int maxInFlight, int channelCapacity, int sourceBatch, StoreOptions storeOptions,
    Path localStateDirectory, long rocksDbBlockCacheBytes, long inFlightTargetMillis) {

  public RuntimeConfig {
    KeyGroups.checkParallelism(maxParallelism, parallelism);
    if (rocksDbBlockCacheBytes < 1) {
      throw new IllegalArgumentException("rocksDbBlockCacheBytes must be >= 1, was "
          + rocksDbBlockCacheBytes);
    }
    if (inFlightTargetMillis < 0) {
      throw new IllegalArgumentException("inFlightTargetMillis must be >= 0 (0 = off), was "
          + inFlightTargetMillis);
    }
    if (maxInFlight < 1 || channelCapacity < 1 || sourceBatch < 1) {
      throw new IllegalArgumentException("maxInFlight, channelCapacity and sourceBatch must be "
          + ">= 1, were " + maxInFlight + ", " + channelCapacity + ", " + sourceBatch);
    }
    if (storeOptions.maxParallelism() != maxParallelism) {
      storeOptions = storeOptions.withMaxParallelism(maxParallelism);
    }
  }

  /**
   * Parallelism 2, 128 key groups, disaggregated state, up to 1,000 records in flight per task
   * and no more than it completes in 200 ms, 256 MiB RocksDB block cache per rocksdb-local task.
   */
  public static RuntimeConfig defaults() {
    return new RuntimeConfig(2, KeyGroups.DEFAULT_MAX_PARALLELISM, DisaggregatedBackend.KIND,
        1000, 1024, 256, StoreOptions.defaults(),
        Path.of(System.getProperty("java.io.tmpdir"), "stratus-local-state"), 256L << 20, 200);
  }

  /** The size of each rocksdb-local instance: its folder, block cache and write buffers. */
  public RocksDbBackend.Config rocksDbConfig() {
    return new RocksDbBackend.Config(localStateDirectory, rocksDbBlockCacheBytes,
        RocksDbBackend.Config.DEFAULT_WRITE_BUFFER_BYTES);
  }

  public RuntimeConfig withParallelism(int value) {
    return new RuntimeConfig(value, maxParallelism, backend, maxInFlight, channelCapacity,
        sourceBatch, storeOptions, localStateDirectory, rocksDbBlockCacheBytes, inFlightTargetMillis);
  }

  public RuntimeConfig withMaxParallelism(int value) {
    return new RuntimeConfig(parallelism, value, backend, maxInFlight, channelCapacity,
        sourceBatch, storeOptions, localStateDirectory, rocksDbBlockCacheBytes, inFlightTargetMillis);
  }

  public RuntimeConfig withBackend(String value) {
    return new RuntimeConfig(parallelism, maxParallelism, value, maxInFlight, channelCapacity,
        sourceBatch, storeOptions, localStateDirectory, rocksDbBlockCacheBytes, inFlightTargetMillis);
  }

  public RuntimeConfig withMaxInFlight(int value) {
    return new RuntimeConfig(parallelism, maxParallelism, backend, value, channelCapacity,
        sourceBatch, storeOptions, localStateDirectory, rocksDbBlockCacheBytes, inFlightTargetMillis);
  }

  public RuntimeConfig withChannelCapacity(int value) {
    return new RuntimeConfig(parallelism, maxParallelism, backend, maxInFlight, value,
        sourceBatch, storeOptions, localStateDirectory, rocksDbBlockCacheBytes, inFlightTargetMillis);
  }

  public RuntimeConfig withSourceBatch(int value) {
    return new RuntimeConfig(parallelism, maxParallelism, backend, maxInFlight, channelCapacity,
        value, storeOptions, localStateDirectory, rocksDbBlockCacheBytes, inFlightTargetMillis);
  }

  public RuntimeConfig withStoreOptions(StoreOptions value) {
    return new RuntimeConfig(parallelism, maxParallelism, backend, maxInFlight, channelCapacity,
        sourceBatch, value, localStateDirectory, rocksDbBlockCacheBytes, inFlightTargetMillis);
  }

  public RuntimeConfig withLocalStateDirectory(Path value) {
    return new RuntimeConfig(parallelism, maxParallelism, backend, maxInFlight, channelCapacity,
        sourceBatch, storeOptions, value, rocksDbBlockCacheBytes, inFlightTargetMillis);
  }

  public RuntimeConfig withRocksDbBlockCacheBytes(long value) {
    return new RuntimeConfig(parallelism, maxParallelism, backend, maxInFlight, channelCapacity,
        sourceBatch, storeOptions, localStateDirectory, value, inFlightTargetMillis);
  }

  public RuntimeConfig withInFlightTargetMillis(long value) {
    return new RuntimeConfig(parallelism, maxParallelism, backend, maxInFlight, channelCapacity,
        sourceBatch, storeOptions, localStateDirectory, rocksDbBlockCacheBytes, value);
  }
}
