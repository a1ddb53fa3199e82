package io.stratus.bench;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.cache.HybridBlockCache;
import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.source.OffsetReader;
import io.stratus.runtime.state.KeyedStateBackend;
import io.stratus.runtime.state.StateBackendFactory;
import io.stratus.runtime.state.StateKeys;
import io.stratus.scheduler.CheckpointMetadata;
import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.keygroup.KeyGroups;
import io.stratus.store.lsm.StoreResources;
import io.stratus.store.objectstore.ObjectStore;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Builds the keyed state of a benchmark job without running the job: the value state
 * {@code state} of operator {@code operator} holds a {@link BenchKeys#value 100-byte value} for
 * each of the {@code Long} keys {@code 0 .. keys - 1}. Entries are written straight into the
 * backends of the operator's tasks (the runtime's parallelism and key groups), in key order so
 * that loading costs no compaction; each backend is snapshotted and a savepoint's metadata
 * pointing at the snapshots is returned, for the job to start from. Creating gigabytes of state
 * record by record through a job would take most of a benchmark's time.
 */
public final class StatePreloader {

  /** Bytes of a state entry as stored: key (2 + 2 + 1 + 8 + 1) and value. */
  public static final int ENTRY_BYTES = 14 + BenchKeys.VALUE_BYTES;

  private StatePreloader() {}

  /** GiB of state that {@code keys} keys make. */
  public static double gibOf(long keys) {
    return keys * (double) ENTRY_BYTES / (1L << 30);
  }

  /** Keys that make about {@code gib} GiB of state. */
  public static long keysFor(double gib) {
    return (long) (gib * (1L << 30)) / ENTRY_BYTES;
  }

  /**
   * Loads {@code keys} keys and returns savepoint metadata for a job whose only source has one
   * split at {@code sourceOffset} (of the job's one source, named {@code source}).
   */
  public static CheckpointMetadata preload(ObjectStore objects, RuntimeConfig runtime,
      String operator, String state, long keys, String source, long sourceOffset)
      throws IOException {
    if (keys > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("at most " + Integer.MAX_VALUE + " keys, not " + keys);
    }
    int maxParallelism = runtime.maxParallelism();
    int[][] byGroup = keysByGroup((int) keys, maxParallelism);
    int stateId = StateKeys.stateId(state);
    byte[] noNamespace = new byte[0];
    List<CheckpointMetadata.TaskState> tasks = new ArrayList<>();
    try (HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(16 << 20));
        StoreResources resources = StoreResources.create(objects, cache)) {
      StateBackendFactory factory = new StateBackendFactory(runtime.backend(), resources,
          runtime.storeOptions(), runtime.rocksDbConfig());
      for (int t = 0; t < runtime.parallelism(); t++) {
        KeyGroupRange range = KeyGroupRange.forSubtask(maxParallelism, runtime.parallelism(), t);
        KeyedStateBackend backend = factory.create("preload/" + t, range).join();
        try {
          for (int g = range.start(); g <= range.end(); g++) {
            for (int k : byGroup[g]) {
              backend.put(StateKeys.prefix(g, stateId, Serdes.LONG.toBytes((long) k),
                  noNamespace), Serdes.BYTES.toBytes(BenchKeys.value(k, 0)));
            }
          }
          tasks.add(new CheckpointMetadata.TaskState(t, range, backend.snapshot().join()));
        } finally {
          backend.close();
        }
      }
    }
    return new CheckpointMetadata("preload", 0, CheckpointMetadata.SAVEPOINT,
        System.currentTimeMillis(), runtime.backend(), maxParallelism,
        List.of(new CheckpointMetadata.SourceSplit(source, 0, 1,
            Map.of(OffsetReader.SPLIT, sourceOffset))),
        List.of(new CheckpointMetadata.Operator(operator, runtime.parallelism(), tasks)),
        List.of());
  }

  /** Keys {@code 0 .. keys - 1} grouped by key group, ascending within each. */
  private static int[][] keysByGroup(int keys, int maxParallelism) {
    int[] counts = new int[maxParallelism];
    int[] groupOf = new int[keys];
    for (int k = 0; k < keys; k++) {
      groupOf[k] = KeyGroups.keyGroupOf(Serdes.LONG.toBytes((long) k), maxParallelism);
      counts[groupOf[k]]++;
    }
    int[][] byGroup = new int[maxParallelism][];
    for (int g = 0; g < maxParallelism; g++) {
      byGroup[g] = new int[counts[g]];
      counts[g] = 0;
    }
    for (int k = 0; k < keys; k++) {
      byGroup[groupOf[k]][counts[groupOf[k]]++] = k;
    }
    return byGroup;
  }
}
