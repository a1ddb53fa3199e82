package io.stratus.bench;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.cache.BlockKey;
import io.stratus.cache.BlockLoader;
import io.stratus.cache.CacheMetrics;
import io.stratus.cache.DiskWritePolicy;
import io.stratus.cache.HybridBlockCache;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;

/**
 * Hit ratios of the block cache on three key streams over 16 KiB blocks, with the state four
 * times the cache: Zipfian (s = 0.99), uniform, and "recent keys are hot". Contenders of the same
 * byte size: the cache's Caffeine memory tier (W-TinyLFU) and a plain LRU. Then the two disk
 * write policies of the hybrid cache on the Zipfian stream: hit ratio, bytes written to disk and
 * time for the same requests.
 *
 * <p>Run: {@code bench/run cache-hit-ratio [--quick true]}. Results:
 * {@code bench/results/cache-hit-ratio.*}.
 */
public final class CacheHitRatioBenchmark {

  private static final int BLOCK = 16 << 10;
  private static final int BLOCKS = 16_384;
  private static final long CACHE_BYTES = (long) BLOCKS * BLOCK / 4;
  private static final int WARMUP = 1_000_000;
  private static final int MEASURED = 2_000_000;

  private CacheHitRatioBenchmark() {}

  public static void main(String[] args) throws Exception {
    // The same streams in both modes (about a minute); quick only keeps the results apart.
    boolean quick = Boolean.parseBoolean(BenchArgs.parse(args).getOrDefault("--quick", "false"));
    BenchReport report = new BenchReport("cache-hit-ratio", quick)
        .config("blockBytes", BLOCK).config("blocks", BLOCKS)
        .config("stateMiB", (long) BLOCKS * BLOCK >> 20).config("cacheMiB", CACHE_BYTES >> 20)
        .config("warmupRequests", WARMUP).config("measuredRequests", MEASURED);
    System.out.println("Hit ratio, state 4x cache:");
    for (String workload : new String[] {"zipfian-0.99", "uniform", "recent-hot"}) {
      double caffeine = caffeineHitRatio(stream(workload, 1));
      double lru = lruHitRatio(stream(workload, 1));
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("workload", workload);
      row.put("caffeineHitRatio", caffeine);
      row.put("lruHitRatio", lru);
      row.put("caffeineOverLru", caffeine / lru);
      report.row(row);
    }
    System.out.println("Disk write policy, memory 1/8 and disk 1/4 of the state, Zipfian:");
    Path dir = java.nio.file.Files.createTempDirectory("stratus-bench-cache");
    // Pending writes may pile up: this run needs a heap of several GiB (bench/run gives 6).
    for (int run = 0; run < 3; run++) {
      for (DiskWritePolicy policy : DiskWritePolicy.values()) {
        report.row(policyRun(policy, dir, run));
      }
    }
    report.note("W-TinyLFU (Caffeine) against LRU of the same byte size; hit ratios over the "
        + "measured requests after warm-up. Policy rows: hit ratio of memory + disk, block bytes "
        + "written to disk, and wall time of the measured requests with an immediate loader "
        + "(so the time is the cache's own: memory, disk reads and writes).");
    System.out.println("Wrote " + report.write());
  }

  static LongSupplier stream(String workload, long seed) {
    return switch (workload) {
      case "zipfian-0.99" -> new ZipfianGenerator(BLOCKS, 0.99, seed, true)::next;
      case "uniform" -> {
        SplittableRandom r = new SplittableRandom(seed);
        yield () -> r.nextInt(BLOCKS);
      }
      case "recent-hot" -> {
        SplittableRandom r = new SplittableRandom(seed);
        long[] clock = {0};
        // 90% of requests hit the 10% most recently "written" blocks; the window moves on.
        yield () -> {
          clock[0]++;
          long head = clock[0] / 200;
          if (r.nextInt(10) < 9) {
            return Math.floorMod(head - r.nextInt(BLOCKS / 10), BLOCKS);
          }
          return r.nextInt(BLOCKS);
        };
      }
      default -> throw new IllegalArgumentException("unknown workload " + workload);
    };
  }

  private static BlockKey key(long block) {
    return new BlockKey("sst/state.sst", block * BLOCK, BLOCK);
  }

  private static final BlockLoader IMMEDIATE =
      k -> CompletableFuture.completedFuture(new byte[k.length()]);

  private static double caffeineHitRatio(LongSupplier blocks) {
    try (HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(CACHE_BYTES))) {
      for (int i = 0; i < WARMUP; i++) {
        cache.get(key(blocks.getAsLong()), IMMEDIATE).join();
      }
      CacheMetrics before = cache.metrics();
      for (int i = 0; i < MEASURED; i++) {
        cache.get(key(blocks.getAsLong()), IMMEDIATE).join();
      }
      CacheMetrics after = cache.metrics();
      long hits = after.memory().hits() - before.memory().hits();
      return (double) hits / MEASURED;
    }
  }

  /** A plain LRU over the same bytes (blocks plus the same per-entry charge). */
  private static double lruHitRatio(LongSupplier blocks) {
    long capacity = CACHE_BYTES / (BLOCK + 128);
    LinkedHashMap<Long, byte[]> lru = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Long, byte[]> eldest) {
        return size() > capacity;
      }
    };
    long hits = 0;
    for (int i = 0; i < WARMUP + MEASURED; i++) {
      long b = blocks.getAsLong();
      byte[] v = lru.get(b);
      if (v == null) {
        lru.put(b, new byte[BLOCK]);
      } else if (i >= WARMUP) {
        hits++;
      }
    }
    return (double) hits / MEASURED;
  }

  private static Map<String, Object> policyRun(DiskWritePolicy policy, Path dir, int run) {
    LongSupplier blocks = stream("zipfian-0.99", 11 + run);
    BlockCacheConfig config = BlockCacheConfig.defaults()
        .withMemoryBytes(CACHE_BYTES / 2).withDiskBytes(CACHE_BYTES)
        .withDiskDirectory(dir.resolve(policy.name().toLowerCase() + "-" + run))
        .withDiskWritePolicy(policy)
        // The immediate loader outruns the disk writer; without room for every pending write,
        // how many writes get dropped would decide the comparison instead of the policy.
        .withMaxPendingWriteBytes(4L << 30);
    try (HybridBlockCache cache = new HybridBlockCache(config)) {
      for (int i = 0; i < WARMUP; i++) {
        cache.get(key(blocks.getAsLong()), IMMEDIATE).join();
      }
      CacheMetrics before = cache.metrics();
      long start = System.nanoTime();
      for (int i = 0; i < MEASURED; i++) {
        cache.get(key(blocks.getAsLong()), IMMEDIATE).join();
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      CacheMetrics after = cache.metrics();
      long hits = after.memory().hits() + after.disk().hits() - before.memory().hits()
          - before.disk().hits();
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("workload", "zipfian-0.99 hybrid run " + (run + 1));
      row.put("policy", policy.name());
      row.put("hitRatio", (double) hits / MEASURED);
      row.put("memoryHitRatio",
          (double) (after.memory().hits() - before.memory().hits()) / MEASURED);
      row.put("diskMiBWritten",
          (double) (after.diskBytesWritten() - before.diskBytesWritten()) / (1 << 20));
      row.put("diskWritesDropped", after.diskWritesDropped() - before.diskWritesDropped());
      row.put("seconds", seconds);
      row.put("requestsPerSecond", MEASURED / seconds);
      return row;
    }
  }
}
