package io.stratus.runtime.state;

import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.lsm.StateStore;
import io.stratus.store.lsm.StoreOptions;
import io.stratus.store.lsm.StoreResources;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the configured kind of {@link KeyedStateBackend} for a task: empty, or restored from
 * snapshot handles for a key-group range.
 */
public final class StateBackendFactory {

  private static final Logger LOG = LoggerFactory.getLogger(StateBackendFactory.class);

  private final String kind;
  private final StoreResources resources;
  private final StoreOptions storeOptions;
  private final RocksDbBackend.Config rocksDb;

  /**
   * @param kind         {@code disaggregated}, {@code rocksdb-local} or {@code heap}
   * @param resources    the worker's object store, cache and threads
   * @param storeOptions options of disaggregated stores (their maxParallelism is the job's)
   * @param rocksDb      where and how RocksDB instances run
   */
  public StateBackendFactory(String kind, StoreResources resources, StoreOptions storeOptions,
      RocksDbBackend.Config rocksDb) {
    if (!List.of(DisaggregatedBackend.KIND, RocksDbBackend.KIND, HeapBackend.KIND)
        .contains(kind)) {
      throw new IllegalArgumentException("unknown state backend '" + kind + "'; choose "
          + DisaggregatedBackend.KIND + ", " + RocksDbBackend.KIND + " or " + HeapBackend.KIND);
    }
    this.kind = kind;
    this.resources = resources;
    this.storeOptions = storeOptions;
    this.rocksDb = rocksDb;
  }

  public String kind() {
    return kind;
  }

  public int maxParallelism() {
    return storeOptions.maxParallelism();
  }

  public CompletableFuture<KeyedStateBackend> create(String storeId, KeyGroupRange range) {
    return CompletableFuture.completedFuture(switch (kind) {
      case DisaggregatedBackend.KIND -> new DisaggregatedBackend(
          StateStore.create(resources, storeOptions, storeId, range));
      case RocksDbBackend.KIND -> RocksDbBackend.create(resources.objectStore(), storeId, range,
          maxParallelism(), rocksDb);
      default -> new HeapBackend(resources.objectStore(), storeId, range, maxParallelism());
    });
  }

  /**
   * Opens {@code range} from snapshots written by a backend of the same kind; a disaggregated
   * store then warms the worker's cache, {@code warmFirst} first.
   */
  public CompletableFuture<KeyedStateBackend> restore(String storeId, KeyGroupRange range,
      List<StateHandle> handles, HotBlocks warmFirst) {
    for (StateHandle h : handles) {
      if (!h.kind().equals(kind)) {
        return CompletableFuture.failedFuture(new IllegalArgumentException("snapshot "
            + h.manifestKey() + " was written by the " + h.kind() + " backend; this job uses "
            + kind));
      }
    }
    return switch (kind) {
      case DisaggregatedBackend.KIND -> StateStore.restore(resources, storeOptions, storeId,
              range, handles.stream().map(DisaggregatedBackend::toCheckpointHandle).toList())
          .thenApply(store -> {
            // A restored range is usually new to this worker's cache: warm up to half of the
            // memory tier, the previous owner's hottest blocks first, in large reads instead of
            // one read per miss. It runs on the store's request threads (the task opens
            // without waiting for it) and ends early if the store closes.
            long began = System.nanoTime();
            store.warmCache(resources.cache().config().memoryBytes() / 2, warmFirst.keys())
                .whenComplete((loaded, e) -> {
                  if (loaded != null) {
                    LOG.info("Store {} warmed the cache with {} MiB ({} MiB of the previous "
                            + "owner's hottest blocks) in {} ms", store.storeId(),
                        loaded[1] >> 20, loaded[0] >> 20,
                        (System.nanoTime() - began) / 1_000_000);
                  } else {
                    LOG.debug("Store {} did not warm the cache", store.storeId(), e);
                  }
                });
            return new DisaggregatedBackend(store);
          });
      case RocksDbBackend.KIND -> RocksDbBackend.restore(resources.objectStore(), storeId, range,
          maxParallelism(), rocksDb, handles).thenApply(b -> b);
      default -> HeapBackend.restore(resources.objectStore(), storeId, range, maxParallelism(),
          handles).thenApply(b -> b);
    };
  }
}
