package io.stratus.bench;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.cache.CacheMetrics;
import io.stratus.cache.HybridBlockCache;
import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.api.StreamEnvironment;
import io.stratus.runtime.functions.Collector;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.sink.DiscardingSink;
import io.stratus.runtime.source.Source;
import io.stratus.runtime.source.OffsetReader;
import io.stratus.runtime.source.SourceReader;
import io.stratus.runtime.source.SourceRecord;
import io.stratus.runtime.state.StateDescriptor;
import io.stratus.runtime.state.ValueState;
import io.stratus.scheduler.CheckpointConfig;
import io.stratus.scheduler.CheckpointMetadata;
import io.stratus.scheduler.EmbeddedCluster;
import io.stratus.scheduler.JobController;
import io.stratus.scheduler.JobDefinition;
import io.stratus.scheduler.RescaleReport;
import io.stratus.scheduler.RestartStrategy;
import io.stratus.store.lsm.StoreOptions;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.NetworkModel;
import io.stratus.store.objectstore.SimulatedNetworkObjectStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Throughput across a scale-out, with and without the handover of the old owners' hottest
 * blocks ({@code StoreOptions.handoverBlocks}): a job updates keys of preloaded state larger
 * than the workers' caches, as fast as it can, on two workers, drawn from the
 * {@link KeyedUpdateWorkload} distributions ({@code zipfian}: s = 0.99, hot keys scattered, so
 * nearly every block holds some; {@code recent}: a drifting set of recent keys takes 90 %, so
 * hot keys sit together in blocks); after a warm-up a third worker (an empty cache)
 * joins and the job is rescaled 2 → 3. Per mode: updates per second before, the rescale's
 * duration, and each second after it as a share of the rate before; the time until the rate is
 * back at 90 %; and the updates the dip cost (the shortfall against the rate before, in
 * seconds of it). Both modes start from copies of one preloaded bucket and run in turn, the
 * order alternating over {@code --rounds}.
 *
 * <p>Run: {@code bench/run rescale-warmth [--size-gib 1] [--cache-mib 128] [--rounds 2]
 * [--warm-seconds 40] [--after-seconds 30] [--latency-ms 10] [--mbps 100]
 * [--distributions zipfian,recent]}.
 */
public final class RescaleWarmthBenchmark {

  private static final String OPERATOR = "updates";
  private static final String STATE = "count";
  private static final int MAX_PARALLELISM = 128;
  private static final int BEFORE_SECONDS = 10;
  /** Seconds after the rescale call over which the new worker's cache is measured. */
  private static final int NEW_WORKER_SECONDS = 10;
  /** The first seconds after the call, where warming matters most. */
  private static final int EARLY_SECONDS = 3;

  /** Updates completed in this JVM (the cluster is embedded). */
  static final AtomicLong UPDATES = new AtomicLong();

  private RescaleWarmthBenchmark() {}

  /** Reads the key's 100-byte value and writes the next one. */
  static final class Update extends KeyedProcessFunction<Long, Long, Long> {
    private transient ValueState<byte[]> value;

    @Override
    public void open(OpenContext context) {
      value = context.state(new StateDescriptor.Value<>(STATE, Serdes.BYTES));
    }

    @Override
    public void processElement(Long key, Context<Long> context, Collector<Long> out) {
      value.value().thenAccept(previous -> {
        value.update(BenchKeys.nextValue(key, previous));
        UPDATES.incrementAndGet();
      });
    }
  }

  /**
   * Keys of {@code [0, keys)} drawn from a {@link KeyedUpdateWorkload} distribution (the state
   * exists already, so its creation phase is skipped), as fast as the job takes them.
   */
  static final class Keys implements Source<Long> {
    private final KeyedUpdateWorkload workload;

    Keys(KeyedUpdateWorkload workload) {
      this.workload = workload;
    }

    @Override
    public boolean bounded() {
      return false;
    }

    @Override
    public SourceReader<Long> createReader(int split, int splits) {
      KeyedUpdateWorkload.KeyGenerator keys = workload.keyGenerator();
      return new OffsetReader<>() {
        private long next;

        @Override
        public List<SourceRecord<Long>> poll(int max) {
          List<SourceRecord<Long>> out = new ArrayList<>(max);
          for (int i = 0; i < max; i++) {
            out.add(new SourceRecord<>(keys.keyOf(workload.keys() + next), Long.MIN_VALUE));
            next++;
          }
          return out;
        }

        @Override
        public long offset() {
          return next;
        }

        @Override
        public void seek(long offset) {
          next = offset;
        }
      };
    }
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> a = BenchArgs.parse(args);
    double gib = Double.parseDouble(a.getOrDefault("--size-gib", "1"));
    long cacheMiB = Long.parseLong(a.getOrDefault("--cache-mib", "128"));
    int rounds = Integer.parseInt(a.getOrDefault("--rounds", "2"));
    int warmSeconds = Integer.parseInt(a.getOrDefault("--warm-seconds", "40"));
    int afterSeconds = Integer.parseInt(a.getOrDefault("--after-seconds", "30"));
    List<String> distributions = List.of(a.getOrDefault("--distributions", "zipfian,recent")
        .split(","));
    distributions.forEach(KeyedUpdateWorkload::checkDistribution);
    int latencyMs = Integer.parseInt(a.getOrDefault("--latency-ms", "10"));
    long mbps = Long.parseLong(a.getOrDefault("--mbps", "100"));
    Path work = Path.of(a.getOrDefault("--work-dir", System.getProperty("java.io.tmpdir")));
    NetworkModel cloud = new NetworkModel(Duration.ofMillis(latencyMs), mbps * 1_000_000);
    long keys = StatePreloader.keysFor(gib);
    int handoverBlocks = StoreOptions.defaults().handoverBlocks();

    BenchReport report = new BenchReport("rescale-warmth", false)
        .config("stateGiB", StatePreloader.gibOf(keys)).config("keys", keys)
        .config("distributions", distributions).config("cachePerWorkerMiB", cacheMiB)
        .config("rescale", "2 -> 3 onto a new worker").config("warmSeconds", warmSeconds)
        .config("afterSeconds", afterSeconds).config("network", cloud)
        .config("handoverBlocks", handoverBlocks).config("rounds", rounds);
    Path dir = Files.createTempDirectory(work, "stratus-bench-warmth");
    try {
      Path base = dir.resolve("base");
      RuntimeConfig preloadRuntime = runtime(dir, handoverBlocks);
      long t0 = System.nanoTime();
      CheckpointMetadata start;
      try (LocalDirectoryObjectStore objects = new LocalDirectoryObjectStore(base)) {
        start = StatePreloader.preload(objects, preloadRuntime, OPERATOR, STATE, keys, "keys",
            0);
      }
      System.out.printf("%.2f GiB of state (%,d keys) loaded in %.1f s%n",
          StatePreloader.gibOf(keys), keys, (System.nanoTime() - t0) / 1e9);
      for (int round = 0; round < rounds; round++) {
        int[] order = round % 2 == 0 ? new int[] {handoverBlocks, 0}
            : new int[] {0, handoverBlocks};
        for (String distribution : distributions) {
          KeyedUpdateWorkload workload = new KeyedUpdateWorkload(keys, 0, distribution, 2, 3,
              2000, cacheMiB);
          for (int blocks : order) {
            Path bucket = dir.resolve("run-" + round + "-" + distribution + "-" + blocks);
            copy(base, bucket);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("distribution", distribution);
            row.putAll(run(bucket, runtime(dir, blocks), start, workload, cacheMiB, cloud,
                warmSeconds, afterSeconds));
            row.put("round", round);
            report.row(row);
            Directories.deleteRecursively(bucket);
          }
        }
      }
    } finally {
      Directories.deleteRecursively(dir);
    }
    report.note("Each row: a job of " + OPERATOR + " (read a key's 100-byte value, write the "
        + "next) on an embedded cluster of two workers, restored from the preloaded state; "
        + "after warmSeconds a third worker (empty cache) joins and the job is rescaled 2 -> 3 "
        + "(JobController.rescale, what POST /jobs/{id}/rescale calls). beforePerSecond = "
        + "updates/s over the " + BEFORE_SECONDS + " s before the rescale; rescaleMs = the call "
        + "to the first record at the new parallelism; afterPct = each second after the call "
        + "as % of beforePerSecond; secondsTo90Pct = first second from which the rate stays at "
        + ">= 90 % for 3 s; dipCostSeconds = the updates missing over afterSeconds against "
        + "beforePerSecond, in seconds of it. handoverBlocks 0 = no handover: the new owner "
        + "warms its key groups' files newest level first (the budget, half its memory "
        + "cache, is the same in both modes). newWorkerHitPct3s and newWorkerHitPct = the new worker's "
        + "memory-tier hits over its lookups in the first " + EARLY_SECONDS + " and "
        + NEW_WORKER_SECONDS + " s after the call (the warm-up's own loads count as misses); "
        + "first3sUpdates = the job's updates in the first " + EARLY_SECONDS + " s after the "
        + "call (the rescale itself included); newWorkerBlocksLoaded = blocks it put into its "
        + "cache from the bucket then (warm-up and misses).");
    System.out.println("Wrote " + report.write());
    System.exit(0);
  }

  private static RuntimeConfig runtime(Path dir, int handoverBlocks) {
    return RuntimeConfig.defaults().withParallelism(2).withMaxParallelism(MAX_PARALLELISM)
        .withLocalStateDirectory(dir.resolve("rocksdb"))
        .withStoreOptions(StoreOptions.defaults().withMaxParallelism(MAX_PARALLELISM)
            .withHandoverBlocks(handoverBlocks));
  }

  private static Map<String, Object> run(Path bucket, RuntimeConfig runtime,
      CheckpointMetadata start, KeyedUpdateWorkload workload, long cacheMiB, NetworkModel cloud,
      int warmSeconds,
      int afterSeconds) throws Exception {
    int handoverBlocks = runtime.storeOptions().handoverBlocks();
    StreamEnvironment env = StreamEnvironment.plan(runtime);
    env.fromSource(new Keys(workload), WatermarkStrategy.noWatermarks(), "keys", 1)
        .returns(Serdes.LONG)
        .keyBy(k -> k, Serdes.LONG)
        .process(new Update(), OPERATOR)
        .sinkTo(new DiscardingSink<>());
    JobDefinition job = new JobDefinition(env.graph("warmth"), runtime,
        CheckpointConfig.defaults().withInterval(Duration.ofSeconds(2))
            .withTimeout(Duration.ofSeconds(60)).withRetained(2),
        RestartStrategy.none());
    try (SimulatedNetworkObjectStore objects = new SimulatedNetworkObjectStore(
            new LocalDirectoryObjectStore(bucket), cloud);
        EmbeddedCluster cluster = new EmbeddedCluster(objects, 2,
            BlockCacheConfig.memoryOnly(cacheMiB << 20), Duration.ofMillis(200))) {
      cluster.catalog().register(job);
      JobController controller = cluster.coordinator().submit("warmth", start, Map.of());
      controller.started().get(5, TimeUnit.MINUTES);
      Thread.sleep(TimeUnit.SECONDS.toMillis(warmSeconds - BEFORE_SECONDS));
      long[] before = perSecond(BEFORE_SECONDS);
      double beforeRate = mean(before);
      HybridBlockCache newCache = cluster.addWorker().resources().store().cache();
      cluster.coordinator().awaitWorkers(3, Duration.ofSeconds(30)).join();
      long callAt = System.nanoTime();
      long countAtCall = UPDATES.get();
      java.util.concurrent.CompletableFuture<RescaleReport> rescale =
          controller.rescale(Map.of(OPERATOR, 3));
      long[] early = perSecond(EARLY_SECONDS, callAt, countAtCall);
      CacheMetrics atEarly = newCache.metrics();
      long[] middle = perSecond(NEW_WORKER_SECONDS - EARLY_SECONDS,
          callAt + TimeUnit.SECONDS.toNanos(EARLY_SECONDS), UPDATES.get());
      CacheMetrics first = newCache.metrics();
      long[] rest = perSecond(afterSeconds - NEW_WORKER_SECONDS,
          callAt + TimeUnit.SECONDS.toNanos(NEW_WORKER_SECONDS), UPDATES.get());
      long[] after = java.util.stream.LongStream.concat(java.util.stream.LongStream.concat(
          java.util.Arrays.stream(early), java.util.Arrays.stream(middle)),
          java.util.Arrays.stream(rest)).toArray();
      RescaleReport r = rescale.get(5, TimeUnit.MINUTES);
      controller.cancel().get(60, TimeUnit.SECONDS);

      List<Long> pct = new ArrayList<>();
      double missing = 0;
      for (long n : after) {
        pct.add(Math.round(100.0 * n / beforeRate));
        missing += Math.max(0, beforeRate - n);
      }
      int recoveredAt = -1;
      for (int s = 0; s + 3 <= after.length && recoveredAt < 0; s++) {
        boolean stays = true;
        for (int i = s; i < s + 3; i++) {
          stays &= after[i] >= 0.9 * beforeRate;
        }
        if (stays) {
          recoveredAt = s;
        }
      }
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("handoverBlocks", handoverBlocks);
      row.put("beforePerSecond", Math.round(beforeRate));
      row.put("rescaleMs", r.totalMillis());
      row.put("afterPct", pct);
      row.put("first5sPct", Math.round(100.0 * mean(java.util.Arrays.copyOf(after, 5))
          / beforeRate));
      row.put("secondsTo90Pct", recoveredAt);
      row.put("dipCostSeconds", Math.round(missing / beforeRate * 10) / 10.0);
      row.put("first3sUpdates", early[0] + early[1] + early[2]);
      long earlyHits = atEarly.memory().hits();
      row.put("newWorkerHitPct3s", Math.round(1000.0 * earlyHits
          / Math.max(1, earlyHits + atEarly.misses())) / 10.0);
      long hits = first.memory().hits();
      row.put("newWorkerHitPct", Math.round(1000.0 * hits / Math.max(1, hits + first.misses()))
          / 10.0);
      row.put("newWorkerBlocksLoaded", first.remoteLoad().count());
      System.out.println("  " + row);
      return row;
    }
  }

  /** Updates completed in each of the next {@code seconds} seconds. */
  private static long[] perSecond(int seconds) throws InterruptedException {
    return perSecond(seconds, System.nanoTime(), UPDATES.get());
  }

  private static long[] perSecond(int seconds, long fromNanos, long fromCount)
      throws InterruptedException {
    long[] out = new long[seconds];
    long last = fromCount;
    for (int s = 0; s < seconds; s++) {
      long until = fromNanos + TimeUnit.SECONDS.toNanos(s + 1);
      long wait = until - System.nanoTime();
      if (wait > 0) {
        TimeUnit.NANOSECONDS.sleep(wait);
      }
      long now = UPDATES.get();
      out[s] = now - last;
      last = now;
    }
    return out;
  }

  private static double mean(long[] values) {
    double sum = 0;
    for (long v : values) {
      sum += v;
    }
    return values.length == 0 ? 0 : sum / values.length;
  }

  private static void copy(Path from, Path to) {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy " + from + " to " + to, e);
    }
  }
}
