package io.stratus.bench.jmh;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.cache.BlockKey;
import io.stratus.cache.BlockLoader;
import io.stratus.cache.HybridBlockCache;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The block cache's own cost with 16 KiB blocks: a memory hit, a disk hit (memory holds 1 MiB of
 * a 64 MiB set that all sits on disk), and memory-hit throughput from two threads. The loader
 * answers at once, so only the cache is measured.
 */
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgs = {"-Xmx2g"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class HybridCacheBenchmark {

  private static final int BLOCK = 16 << 10;

  @Param({"memory-hit", "disk-hit"})
  public String tier;

  private HybridBlockCache cache;
  private BlockKey[] keys;
  private final BlockLoader loader = k -> CompletableFuture.completedFuture(new byte[k.length()]);

  @Setup(Level.Trial)
  public void setUp() {
    int blocks = tier.equals("memory-hit") ? 1024 : 4096;
    cache = new HybridBlockCache(tier.equals("memory-hit")
        ? BlockCacheConfig.memoryOnly(64L << 20)
        : BlockCacheConfig.defaults().withMemoryBytes(1 << 20).withDiskBytes(256L << 20)
            .withMaxPendingWriteBytes(256L << 20));
    keys = new BlockKey[blocks];
    for (int i = 0; i < blocks; i++) {
      keys[i] = new BlockKey("sst/bench.sst", (long) i * BLOCK, BLOCK);
      cache.get(keys[i], loader).join();
    }
    if (tier.equals("disk-hit")) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (cache.diskBytesUsed() < (long) (blocks - 128) * BLOCK
          && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    System.out.printf("%n[%s] %s%n", tier, cache.metrics());
    cache.close();
  }

  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  public byte[] latency() {
    return cache.get(keys[ThreadLocalRandom.current().nextInt(keys.length)], loader).join();
  }

  @Benchmark
  @BenchmarkMode(Mode.Throughput)
  @OutputTimeUnit(TimeUnit.SECONDS)
  @Threads(2)
  public byte[] throughputTwoThreads() {
    return cache.get(keys[ThreadLocalRandom.current().nextInt(keys.length)], loader).join();
  }
}
