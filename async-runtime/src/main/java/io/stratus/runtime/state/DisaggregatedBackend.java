package io.stratus.runtime.state;

import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.lsm.CheckpointHandle;
import io.stratus.store.lsm.KeyValue;
import io.stratus.store.lsm.StateStore;
import io.stratus.store.lsm.StoreMetrics;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** The default backend: the LSM {@link StateStore} whose files live in the object store. */
public final class DisaggregatedBackend implements KeyedStateBackend {

  public static final String KIND = "disaggregated";

  private final StateStore store;

  public DisaggregatedBackend(StateStore store) {
    this.store = store;
  }

  /** The store underneath, for metrics. */
  public StateStore store() {
    return store;
  }

  @Override
  public String kind() {
    return KIND;
  }

  @Override
  public KeyGroupRange keyGroups() {
    return store.keyGroups();
  }

  @Override
  public CompletableFuture<byte[]> get(byte[] key) {
    return store.get(key);
  }

  @Override
  public void put(byte[] key, byte[] value) {
    store.put(key, value);
  }

  @Override
  public void delete(byte[] key) {
    store.delete(key);
  }

  @Override
  public void merge(byte[] key, byte[] operand) {
    store.merge(key, operand);
  }

  @Override
  public CompletableFuture<List<KeyValue>> scanPrefix(byte[] prefix, int limit) {
    return store.scanPrefix(prefix, limit);
  }

  @Override
  public CompletableFuture<Void> whenWritable() {
    return store.whenWritable();
  }

  @Override
  public long approximateSizeBytes() {
    StoreMetrics m = store.metrics();
    return m.totalBytes() + m.memtableBytes();
  }

  @Override
  public HotBlocks hotBlocks() {
    return HotBlocks.of(store.hottestBlocks());
  }

  @Override
  public long uploadedBytes() {
    StoreMetrics m = store.metrics();
    return m.flushedBytes() + m.deltaBytes();
  }

  @Override
  public CompletableFuture<StateHandle> snapshot() {
    return store.checkpoint().thenApply(DisaggregatedBackend::toStateHandle);
  }

  /** The runtime's handle for a store checkpoint (also for state built outside a job). */
  public static StateHandle toStateHandle(CheckpointHandle h) {
    return new StateHandle(KIND, h.storeId(), h.version(), h.manifestKey(), h.keyGroups(),
        h.maxParallelism(), h.files());
  }

  static CheckpointHandle toCheckpointHandle(StateHandle h) {
    return new CheckpointHandle(h.storeId(), h.version(), h.manifestKey(), h.keyGroups(),
        h.maxParallelism(), h.files());
  }

  @Override
  public void setExpiryFilter(ExpiryFilter filter) {
    store.setCompactionFilter((key, value) ->
        filter.expired(key, value, System.currentTimeMillis()));
  }

  @Override
  public void close() {
    store.close();
  }
}
