package io.stratus.examples;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.cache.CacheMetrics;
import io.stratus.cache.HybridBlockCache;
import io.stratus.cache.LatencyHistogram;
import io.stratus.scheduler.lease.CoordinatorLease;
import io.stratus.scheduler.lease.LeaseConfig;
import io.stratus.scheduler.lease.LeaseHeldException;
import io.stratus.scheduler.lease.LeaseHolder;
import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.keygroup.KeyGroups;
import io.stratus.store.lsm.CheckpointHandle;
import io.stratus.store.lsm.StateStore;
import io.stratus.store.lsm.StoreMetrics;
import io.stratus.store.lsm.StoreOptions;
import io.stratus.store.lsm.StoreResources;
import io.stratus.store.objectstore.ObjectInfo;
import io.stratus.store.objectstore.ObjectStore;
import java.io.IOException;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The store demo: writes keys with 100-byte values over all key groups of a store whose files
 * live in S3, checkpoints, updates a tenth of the keys and checkpoints again (a delta), opens the
 * lower half of the key groups from the checkpoint (pointers only) and reads that half back,
 * checking every value. Prints timings along the way.
 */
@Command(name = "store-demo", mixinStandardHelpOptions = true,
    description = {"Writes keys to an LSM store whose files live in S3, checkpoints, reopens "
        + "half of the key groups from the checkpoint (pointers only) and reads them back. "
        + "Its data goes under its own prefix, store-demo/<time>/, removed at the end.", ""})
final class StoreDemo implements Callable<Integer> {

  private static final int VALUE_BYTES = 100;
  private static final int IN_FLIGHT = 256;

  @Mixin
  StorageOptions storage;

  @Option(names = "--keys", paramLabel = "N", defaultValue = "2000000",
      description = "keys to write (default: ${DEFAULT-VALUE})")
  int keys;

  @Option(names = "--keep", description = "keep the store's files and checkpoints in the "
      + "bucket afterwards (default: the demo removes what it wrote)")
  boolean keep;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    if (keys < 1) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--keys must be at least 1, "
          + "was " + keys);
    }
    try (DemoStorage storage = DemoStorage.open(this.storage,
        "store-demo/" + Instant.now().getEpochSecond() + "/")) {
      System.out.println("Stratus store demo");
      System.out.println("  object store: " + storage.describe());
      int status;
      // Under the prefix's lease, like a coordinator: a demo there would refuse to start.
      try (CoordinatorLease lease = acquire(storage)) {
        // What was there before is not its own: only what it writes is removed at the end.
        Set<String> before = storage.objects().list("").join().stream().map(ObjectInfo::key)
            .collect(Collectors.toSet());
        try (HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.defaults()
                .withDiskDirectory(storage.cacheDirectory()));
            StoreResources resources = StoreResources.create(storage.objects(), cache)) {
          status = exercise(storage.objects(), cache, resources, keys);
        }
        if (!keep) {
          List<ObjectInfo> written = storage.objects().list("").join().stream()
              .filter(o -> !before.contains(o.key()) && !o.key().equals(CoordinatorLease.KEY))
              .toList();
          storage.objects().delete(written.stream().map(ObjectInfo::key).toList()).join();
          System.out.printf("  removed the %,d objects (%s) it wrote; --keep keeps them%n",
              written.size(), Units.bytes(written.stream().mapToLong(ObjectInfo::size).sum()));
        }
      }
      return status;
    } catch (IOException | LeaseHeldException e) {
      System.err.println("stratus store-demo: " + e.getMessage());
      return 1;
    }
  }

  private static CoordinatorLease acquire(DemoStorage storage) {
    try {
      return CoordinatorLease.acquire(storage.objects().forControlPlane(), LeaseConfig.defaults(),
          LeaseHolder.thisProcess("stratus store-demo")).join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : e;
    }
  }

  private static int exercise(ObjectStore objects, HybridBlockCache cache,
      StoreResources resources, int keys) {
    StoreOptions options = StoreOptions.defaults();
    KeyGroupRange all = KeyGroupRange.all(options.maxParallelism());
    CheckpointHandle first;
    CheckpointHandle second;
    int updated = Math.max(1, keys / 10);
    try (StateStore store = StateStore.create(resources, options, "demo/writer", all)) {
      System.out.printf("  writing %,d keys with %d-byte values over %d key groups%n", keys,
          VALUE_BYTES, options.maxParallelism());
      long start = System.nanoTime();
      for (int i = 0; i < keys; i++) {
        store.put(key(i, options.maxParallelism()), value(i, 0));
      }
      double writeSeconds = seconds(start);
      System.out.printf("  wrote %,d keys in %.1f s (%,.0f puts/s)%n", keys, writeSeconds,
          keys / writeSeconds);

      start = System.nanoTime();
      first = store.checkpoint().join();
      StoreMetrics m = store.metrics();
      System.out.printf("  checkpoint 1: %.2f s; %d files, %.1f MiB in the bucket, "
              + "%d flushes, %d compactions so far%n", seconds(start), first.files().size(),
          m.totalBytes() / 1048576.0, m.flushes(), m.compactions());

      for (int i = 0; i < updated; i++) {
        int id = (int) ((i * 2_654_435_761L) % keys);
        store.put(key(id, options.maxParallelism()), value(id, 1));
      }
      long flushedBefore = store.metrics().flushedBytes();
      start = System.nanoTime();
      second = store.checkpoint().join();
      System.out.printf("  checkpoint 2 after %,d updates: %.2f s, uploaded %.1f MiB "
              + "(the delta, not the state)%n", updated, seconds(start),
          (store.metrics().flushedBytes() - flushedBefore) / 1048576.0);
    }

    KeyGroupRange lower = KeyGroupRange.of(0, options.maxParallelism() / 2 - 1);
    long start = System.nanoTime();
    try (StateStore half = StateStore.restore(resources, options, "demo/reader-lower", lower,
        List.of(second)).join()) {
      System.out.printf("  opened key groups %s from checkpoint 2 in %.1f ms "
          + "(metadata only: no SST file read)%n", lower, (System.nanoTime() - start) / 1e6);
      int cold = readBack(half, cache, lower, keys, options.maxParallelism(), updated, "cold");
      return cold != 0 ? cold
          : readBack(half, cache, lower, keys, options.maxParallelism(), updated, "warm");
    }
  }

  private static int readBack(StateStore store, HybridBlockCache cache, KeyGroupRange range,
      int keys, int maxParallelism, int updated, String pass) {
    boolean[] wasUpdated = new boolean[keys];
    for (int i = 0; i < updated; i++) {
      wasUpdated[(int) ((i * 2_654_435_761L) % keys)] = true;
    }
    Semaphore inFlight = new Semaphore(IN_FLIGHT);
    AtomicLong wrong = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    LatencyHistogram latency = new LatencyHistogram();
    long start = System.nanoTime();
    int reads = 0;
    for (int i = 0; i < keys; i++) {
      byte[] key = key(i, maxParallelism);
      if (!range.containsKey(key)) {
        continue;
      }
      reads++;
      byte[] expected = value(i, wasUpdated[i] ? 1 : 0);
      inFlight.acquireUninterruptibly();
      long t0 = System.nanoTime();
      store.get(key).whenComplete((v, e) -> {
        latency.record(System.nanoTime() - t0);
        if (e != null) {
          if (failed.getAndIncrement() == 0) {
            System.err.println("  read failed: " + e.getMessage());
          }
        } else if (!Arrays.equals(expected, v)) {
          wrong.incrementAndGet();
        }
        inFlight.release();
      });
    }
    inFlight.acquireUninterruptibly(IN_FLIGHT);
    double s = seconds(start);
    CacheMetrics cm = cache.metrics();
    System.out.printf("  read back %,d keys of %s (%s cache) in %.1f s (%,.0f gets/s, %d in "
            + "flight); get p50 %.3f ms, p99 %.2f ms%n", reads, range, pass, s, reads / s, IN_FLIGHT,
        latency.quantileNanos(0.5) / 1e6, latency.quantileNanos(0.99) / 1e6);
    System.out.printf("  block cache: %.1f%% memory hits, %d disk hits, %d loads from S3 "
            + "(p50 %.2f ms)%n", 100 * cm.memory().hitRatio(), cm.disk().hits(), cm.misses(),
        cm.remoteLoad().p50Nanos() / 1e6);
    if (wrong.get() > 0 || failed.get() > 0) {
      System.out.printf("  FAILED: %d wrong values, %d failed reads%n", wrong.get(),
          failed.get());
      return 1;
    }
    System.out.println("  all values match");
    return 0;
  }

  /** A state key: key group prefix, then the id's bytes. */
  static byte[] key(int id, int maxParallelism) {
    byte[] user = new byte[] {(byte) (id >>> 24), (byte) (id >>> 16), (byte) (id >>> 8),
        (byte) id};
    int keyGroup = KeyGroups.keyGroupOf(user, maxParallelism);
    byte[] key = new byte[2 + user.length];
    key[0] = (byte) (keyGroup >>> 8);
    key[1] = (byte) keyGroup;
    System.arraycopy(user, 0, key, 2, user.length);
    return key;
  }

  /** A value that encodes its key and version, so reads can be checked. */
  static byte[] value(int id, int version) {
    byte[] v = new byte[VALUE_BYTES];
    for (int i = 0; i < v.length; i++) {
      v[i] = (byte) (id * 31 + i + version * 7);
    }
    return v;
  }

  private static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  /** Empties a folder the demo created earlier (it carries the demo's marker file). */
}
