package io.stratus.bench.jmh;

import io.stratus.bench.BenchKeys;
import io.stratus.cache.BlockCacheConfig;
import io.stratus.cache.HybridBlockCache;
import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.lsm.StateStore;
import io.stratus.store.lsm.StoreOptions;
import io.stratus.store.lsm.StoreResources;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Sustained put throughput with 100-byte values and uniformly random keys over 2 million ids,
 * default options (64 MiB memtables), flushes and compactions running in the background against
 * a local-directory object store, so stalls count.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgs = {"-Xmx3g"})
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 5, time = 5)
public class StorePutBenchmark {

  private static final int IDS = 2_000_000;

  private Path dir;
  private LocalDirectoryObjectStore objects;
  private HybridBlockCache cache;
  private StoreResources resources;
  private StateStore store;
  private byte[][] values;
  private final SplittableRandom random = new SplittableRandom(7);

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    dir = Files.createTempDirectory("stratus-bench-put");
    objects = new LocalDirectoryObjectStore(dir);
    cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(64L << 20));
    resources = StoreResources.create(objects, cache);
    store = StateStore.create(resources, StoreOptions.defaults(), "bench-put",
        KeyGroupRange.all(128));
    values = new byte[1024][];
    for (int i = 0; i < values.length; i++) {
      values[i] = BenchKeys.value(i, 0);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    System.out.printf("%n%s%n", store.metrics());
    store.close();
    resources.close();
    cache.close();
    objects.close();
    try (var walk = Files.walk(dir)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Benchmark
  public void put() {
    int id = random.nextInt(IDS);
    store.put(BenchKeys.key(id, 128), values[id & 1023]);
  }
}
