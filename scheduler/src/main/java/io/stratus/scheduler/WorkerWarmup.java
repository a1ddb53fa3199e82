package io.stratus.scheduler;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.cache.HybridBlockCache;
import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.state.DisaggregatedBackend;
import io.stratus.runtime.state.HotBlocks;
import io.stratus.runtime.state.KeyedStateBackend;
import io.stratus.runtime.state.StateBackendFactory;
import io.stratus.runtime.state.StateHandle;
import io.stratus.runtime.state.StateKeys;
import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.keygroup.KeyGroups;
import io.stratus.store.lsm.StoreOptions;
import io.stratus.store.lsm.StoreResources;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.ObjectStore;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Runs a worker process's state path once before the worker takes tasks: a small store is
 * written, checkpointed, restored onto half its key groups and read, in a scratch folder; and
 * the bucket is read once through the worker's own client. The first task a process restores
 * otherwise waits for those classes to load and that code to be compiled — about a second on a
 * busy two-core machine, and a recovery is what waits (measured in {@code bench/results}).
 */
public final class WorkerWarmup {

  private static final int KEYS = 20_000;
  private static final int MAX_PARALLELISM = 128;

  private WorkerWarmup() {}

  /**
   * Warms up; failures are not the worker's problem (it works without), so they are returned,
   * not thrown.
   *
   * @param bucket  the worker's object store: one small read goes there ({@code key})
   * @param key     an object the bucket has, or not (either way the client makes a request)
   * @return how long it took, or the failure's message
   */
  public static String run(ObjectStore bucket, String key) {
    long start = System.nanoTime();
    Path scratch = null;
    try {
      scratch = Files.createTempDirectory("stratus-warmup");
      writeCheckpointRestoreRead(scratch);
      bucket.head(key).join();
      return "warmed up in " + Duration.ofNanos(System.nanoTime() - start).toMillis() + " ms";
    } catch (IOException | RuntimeException e) {
      return "warm-up failed (the first task will start slower): " + Failures.message(e);
    } finally {
      if (scratch != null) {
        try (Stream<Path> files = Files.walk(scratch)) {
          files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
        } catch (IOException e) {
          // A temporary folder: the system cleans it up.
        }
      }
    }
  }

  private static void writeCheckpointRestoreRead(Path scratch) {
    try (LocalDirectoryObjectStore local = new LocalDirectoryObjectStore(scratch);
         HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(4 << 20));
         StoreResources resources = StoreResources.create(local, cache)) {
      StateBackendFactory backends = new StateBackendFactory(DisaggregatedBackend.KIND,
          resources, StoreOptions.small(), RuntimeConfig.defaults().rocksDbConfig());
      int state = StateKeys.stateId("warm-up");
      byte[] value = new byte[100];
      StateHandle handle;
      try (KeyedStateBackend written = backends.create("warm-up/written",
          KeyGroupRange.all(MAX_PARALLELISM)).join()) {
        for (int i = 0; i < KEYS; i++) {
          written.put(key(state, i), value);
        }
        handle = written.snapshot().join();
      }
      KeyGroupRange half = KeyGroupRange.of(0, MAX_PARALLELISM / 2 - 1);
      try (KeyedStateBackend restored = backends.restore("warm-up/restored", half,
          List.of(handle), HotBlocks.NONE).join()) {
        for (int i = 0; i < KEYS; i++) {
          byte[] k = key(state, i);
          if (half.contains(KeyGroups.keyGroupOfStateKey(k))) {
            restored.get(k).join();
          }
        }
      }
    }
  }

  private static byte[] key(int state, int i) {
    byte[] user = ("user-" + i).getBytes(StandardCharsets.UTF_8);
    return StateKeys.prefix(KeyGroups.keyGroupOf(user, MAX_PARALLELISM), state, user,
        new byte[0]);
  }
}
