package io.stratus.runtime.state;

import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.lsm.KeyValue;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Raw keyed storage behind the typed state API: one instance per keyed task, owning a key-group
 * range; every key starts with its key group (see {@link StateKeys}). Three implementations:
 * {@code disaggregated} (the LSM store in the object store, the default), {@code rocksdb-local}
 * (RocksDB on local disk, the Flink 1.x way) and {@code heap}.
 *
 * <p>Reads return futures; writes apply at once (they only touch memory) and must not be called
 * while {@link #whenWritable()} is pending if the caller cannot block.
 */
public interface KeyedStateBackend extends AutoCloseable {

  /** The backend's name: {@code disaggregated}, {@code rocksdb-local} or {@code heap}. */
  String kind();

  KeyGroupRange keyGroups();

  CompletableFuture<byte[]> get(byte[] key);

  void put(byte[] key, byte[] value);

  void delete(byte[] key);

  /** Appends {@code operand} to the key's value (absent counts as empty). */
  void merge(byte[] key, byte[] operand);

  /** Up to {@code limit} live entries whose keys start with {@code prefix}, in key order. */
  CompletableFuture<List<KeyValue>> scanPrefix(byte[] prefix, int limit);

  /** Completes when writes would not block (flushes have caught up). */
  CompletableFuture<Void> whenWritable();

  /**
   * Persists the state as of this call in the object store and returns a handle to it; writes
   * made after the call are not included.
   */
  CompletableFuture<StateHandle> snapshot();

  /**
   * Bytes of state this backend has written to the object store so far, background compaction
   * excluded: the difference between two snapshots is the later one's incremental size.
   */
  long uploadedBytes();

  /**
   * The blocks of this backend's state its worker's cache holds hottest, to hand to the next
   * owner of its key groups with a checkpoint (see {@link HotBlocks}); none where the backend
   * has no shared block cache.
   */
  default HotBlocks hotBlocks() {
    return HotBlocks.NONE;
  }

  /** About how many bytes of state the backend holds (files plus memory), for metrics. */
  long approximateSizeBytes();

  /** Drops expired entries during compaction, where the backend compacts. */
  void setExpiryFilter(ExpiryFilter filter);

  @Override
  void close();
}
