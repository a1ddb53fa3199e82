package io.stratus.runtime.state;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.cache.HybridBlockCache;
import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.lsm.StoreOptions;
import io.stratus.store.lsm.StoreResources;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.ObjectStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Real backends of one kind for tests, opened through {@link StateBackendFactory} as a job opens
 * them: a local-directory object store, a block cache (memory only, so no stray temp folders)
 * and RocksDB folders, all under one test folder. Closing it closes every backend it opened.
 */
public final class BackendFixture implements AutoCloseable {

  public static final List<String> KINDS =
      List.of(HeapBackend.KIND, DisaggregatedBackend.KIND, RocksDbBackend.KIND);

  public final ObjectStore objects;
  public final HybridBlockCache cache;
  public final StoreResources resources;
  public final StateBackendFactory factory;
  private final List<KeyedStateBackend> opened = new ArrayList<>();

  public BackendFixture(String kind, Path dir) {
    this(kind, dir, StoreOptions.small());
  }

  public BackendFixture(String kind, Path dir, StoreOptions options) {
    this.objects = new LocalDirectoryObjectStore(dir.resolve("objects"), false, 2);
    this.cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(8 << 20));
    this.resources = StoreResources.create(objects, cache, 1, 1, 2);
    this.factory = new StateBackendFactory(kind, resources, options,
        new RocksDbBackend.Config(dir.resolve("rocksdb"), 8 << 20, 4 << 20));
  }

  public int maxParallelism() {
    return factory.maxParallelism();
  }

  public KeyedStateBackend create(String storeId, KeyGroupRange range) {
    return track(join(factory.create(storeId, range)));
  }

  public KeyedStateBackend restore(String storeId, KeyGroupRange range, List<StateHandle> handles) {
    return track(join(factory.restore(storeId, range, handles, HotBlocks.NONE)));
  }

  private KeyedStateBackend track(KeyedStateBackend backend) {
    opened.add(backend);
    return backend;
  }

  static <T> T join(java.util.concurrent.CompletableFuture<T> f) {
    try {
      return f.get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("backend operation failed or hung: " + e, e);
    }
  }

  @Override
  public void close() {
    for (KeyedStateBackend b : opened) {
      b.close();
    }
    resources.close();
    cache.close();
    objects.close();
  }
}
