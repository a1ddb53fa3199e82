package io.stratus.bench.jmh;

import io.stratus.bench.BenchKeys;
import io.stratus.cache.BlockCacheConfig;
import io.stratus.cache.HybridBlockCache;
import io.stratus.s3.EmbeddedS3Server;
import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.lsm.StateStore;
import io.stratus.store.lsm.StoreOptions;
import io.stratus.store.lsm.StoreResources;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.NetworkModel;
import io.stratus.store.objectstore.ObjectStore;
import io.stratus.store.objectstore.S3Config;
import io.stratus.store.objectstore.S3ObjectStore;
import io.stratus.store.objectstore.SimulatedNetworkObjectStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Latency of one point read ({@code get(key).join()}) where the answer comes from: the memtable,
 * a block in the memory cache, or a block loaded from the object store: a local directory (raw,
 * or behind 10 ms of injected first-byte latency and 100 MB/s), or an embedded S3Proxy on
 * loopback (the S3 protocol path through the AWS SDK's async client, with the server on the
 * same two cores). 200,000 keys of 100 bytes over 128 key
 * groups; for the miss cases the cache holds 1 MiB of a ~26 MiB state, so about 96% of reads
 * load a block.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgs = {"-Xmx2g"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class StoreGetBenchmark {

  private static final int KEYS = 200_000;

  @Param({"memtable", "cache-hit", "cache-miss-loopback", "cache-miss-10ms", "cache-miss-s3proxy"})
  public String source;

  private Path dir;
  private EmbeddedS3Server s3;
  private ObjectStore inner;
  private SimulatedNetworkObjectStore objects;
  private HybridBlockCache cache;
  private StoreResources resources;
  private StateStore store;
  private byte[][] keys;
  private final SplittableRandom random = new SplittableRandom(42);

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    dir = Files.createTempDirectory("stratus-bench-get");
    if (source.equals("cache-miss-s3proxy")) {
      s3 = EmbeddedS3Server.startInMemory();
      s3.createBucket("bench");
      inner = new S3ObjectStore(S3Config.forBucket("bench").withEndpoint(s3.endpoint(), true)
          .withCredentials(s3.accessKey(), s3.secretKey()));
    } else {
      inner = new LocalDirectoryObjectStore(dir);
    }
    objects = new SimulatedNetworkObjectStore(inner, NetworkModel.none());
    boolean miss = source.startsWith("cache-miss");
    cache = new HybridBlockCache(miss ? BlockCacheConfig.memoryOnly(1 << 20)
        : BlockCacheConfig.memoryOnly(256L << 20));
    resources = StoreResources.create(objects, cache);
    StoreOptions options = StoreOptions.defaults();
    store = StateStore.create(resources, options, "bench-get", KeyGroupRange.all(128));
    keys = new byte[KEYS][];
    for (int i = 0; i < KEYS; i++) {
      keys[i] = BenchKeys.key(i, 128);
      store.put(keys[i], BenchKeys.value(i, 0));
    }
    if (!source.equals("memtable")) {
      store.flush().join();
      store.awaitCompactions().join();
    }
    for (byte[] k : keys) {
      store.get(k).join();
    }
    if (source.equals("cache-miss-10ms")) {
      objects.setModel(new NetworkModel(Duration.ofMillis(10), 100_000_000));
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    System.out.printf("%n[%s] block cache hit ratio %.3f%n", source, cache.metrics().hitRatio());
    store.close();
    resources.close();
    cache.close();
    objects.close();
    inner.close();
    if (s3 != null) {
      s3.close();
    }
    try (var walk = Files.walk(dir)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Benchmark
  public byte[] get() {
    return store.get(keys[random.nextInt(KEYS)]).join();
  }
}
