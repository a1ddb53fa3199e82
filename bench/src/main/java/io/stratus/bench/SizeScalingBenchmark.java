package io.stratus.bench;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.cache.CacheMetrics;
import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.api.StreamEnvironment;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.sink.DiscardingSink;
import io.stratus.runtime.state.DisaggregatedBackend;
import io.stratus.runtime.state.RocksDbBackend;
import io.stratus.s3.EmbeddedS3Server;
import io.stratus.scheduler.CheckpointConfig;
import io.stratus.scheduler.CheckpointMetadata;
import io.stratus.scheduler.EmbeddedCluster;
import io.stratus.scheduler.JobController;
import io.stratus.scheduler.JobDefinition;
import io.stratus.scheduler.JobState;
import io.stratus.scheduler.JobStatus;
import io.stratus.scheduler.RestartStrategy;
import io.stratus.scheduler.Worker;
import io.stratus.store.lsm.StoreOptions;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.NetworkModel;
import io.stratus.store.objectstore.ObjectStore;
import io.stratus.store.objectstore.S3Config;
import io.stratus.store.objectstore.S3ObjectStore;
import io.stratus.store.objectstore.SimulatedNetworkObjectStore;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Throughput of a keyed update job as its state grows past a fixed cache: {@code disaggregated}
 * against {@code rocksdb-local} under the same memory budget, at several state sizes and key
 * distributions (uniform, Zipfian, recent keys hot), as a ratio per size.
 *
 * <p>Per (size, contender) one JVM loads the state ({@link StatePreloader}); then per key
 * distribution a fresh JVM ({@link ChildJvm}) inside a memory cgroup whose limit covers heap,
 * off-heap and page cache (so local RocksDB cannot read its state from memory the budget does
 * not show) drops the OS page cache, starts a two-worker cluster with empty caches, starts the
 * job from the loaded state, lets it warm up and counts completed updates over the measured
 * window (also per 5 s window, for the spread). Contenders:
 * <ul>
 *   <li>{@code rocksdb-local}: RocksDB on local disk, the state cache as its block cache
 *       (off-heap, half per task); synchronous reads as in Flink 1.x.
 *   <li>{@code disaggregated}: the cloud model, every SST read from a local-directory bucket
 *       behind {@code --latency-ms} to first byte and {@code --mbps} per request; the state cache
 *       as the workers' memory block caches (on heap, half per worker), no disk cache.
 *   <li>{@code disaggregated-s3proxy}: the protocol model, the bucket served by an embedded
 *       S3Proxy on loopback, in the driver's process: it shares the two cores but not the
 *       contender's memory budget.
 * </ul>
 *
 * <p>Run: {@code bench/run size-scaling [--quick true] [--sizes-gib 0.5,1,2,4]
 * [--cache-mib 1024] [--contenders ...] [--distributions uniform,zipfian,recent]
 * [--budget-mib MiB, 0 = unbounded; default cache + heap + overhead] [--heap-mib 1024]
 * [--rocksdb-heap-mib 512] [--overhead-mib 1024] [--s3proxy-sizes-gib 0.5,2] [--warmup-s 20]
 * [--measure-s 30] [--latency-ms 10] [--mbps 100] [--interval-ms 10000]
 * [--report size-scaling]}.
 */
public final class SizeScalingBenchmark {

  private static final String OPERATOR = "update";
  private static final String STATE = "value";
  private static final int PARALLELISM = 2;
  private static final int MAX_PARALLELISM = 128;
  private static final String S3PROXY = "disaggregated-s3proxy";
  static final List<String> CONTENDERS =
      List.of(RocksDbBackend.KIND, DisaggregatedBackend.KIND, S3PROXY);
  private static final String BUCKET = "bench";
  private static final String ENV_ENDPOINT = "STRATUS_BENCH_S3_ENDPOINT";
  private static final String ENV_ACCESS_KEY = "STRATUS_BENCH_S3_ACCESS_KEY";
  private static final String ENV_SECRET_KEY = "STRATUS_BENCH_S3_SECRET_KEY";

  private SizeScalingBenchmark() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = BenchArgs.parse(args);
    if (a.containsKey("--run")) {
      runContender(a);
      System.exit(0);
    }
    drive(a);
  }

  // ---------------------------------------------------------------------------------- driver

  private static void drive(Map<String, String> a) throws Exception {
    boolean quick = Boolean.parseBoolean(a.getOrDefault("--quick", "false"));
    List<Double> sizes = new ArrayList<>();
    for (String s : a.getOrDefault("--sizes-gib", quick ? "0.1,0.2" : "0.5,1,2,4").split(",")) {
      sizes.add(Double.parseDouble(s));
    }
    long cacheMiB = Long.parseLong(a.getOrDefault("--cache-mib", quick ? "64" : "1024"));
    // The heap besides the state cache: Stratus keeps memtables and its cache on heap, RocksDB
    // keeps both off heap and needs little heap (the rest of the budget is its page cache).
    long heapMiB = Long.parseLong(a.getOrDefault("--heap-mib", quick ? "512" : "1024"));
    long rocksDbHeapMiB = Long.parseLong(a.getOrDefault("--rocksdb-heap-mib", "512"));
    long overheadMiB = Long.parseLong(a.getOrDefault("--overhead-mib", "1024"));
    long budgetMiB = Long.parseLong(a.getOrDefault("--budget-mib",
        String.valueOf(heapMiB + cacheMiB + overheadMiB)));
    List<Double> s3proxySizes = new ArrayList<>();
    for (String s : a.getOrDefault("--s3proxy-sizes-gib", quick ? "0.1,0.2" : "0.5,2")
        .split(",")) {
      s3proxySizes.add(Double.parseDouble(s));
    }
    List<String> contenders = List.of(a.getOrDefault("--contenders",
        String.join(",", CONTENDERS)).split(","));
    for (String c : contenders) {
      if (!CONTENDERS.contains(c)) {
        throw new IllegalArgumentException("unknown contender '" + c + "': use " + CONTENDERS);
      }
    }
    String distributions = a.getOrDefault("--distributions",
        String.join(",", KeyedUpdateWorkload.DISTRIBUTIONS));
    for (String d : distributions.split(",")) {
      KeyedUpdateWorkload.checkDistribution(d);
    }
    int warmupS = Integer.parseInt(a.getOrDefault("--warmup-s", quick ? "10" : "20"));
    int measureS = Integer.parseInt(a.getOrDefault("--measure-s", quick ? "10" : "30"));
    if (measureS < 5) {
      throw new IllegalArgumentException("--measure-s must be at least 5 (one window), was "
          + measureS);
    }
    int latencyMs = Integer.parseInt(a.getOrDefault("--latency-ms", "10"));
    long mbps = Long.parseLong(a.getOrDefault("--mbps", "100"));
    long intervalMs = Long.parseLong(a.getOrDefault("--interval-ms", "10000"));
    Path work = Path.of(a.getOrDefault("--work-dir", "/tmp/stratus-size-scaling"));
    boolean cgroup = budgetMiB > 0 && ChildJvm.canLimitMemory();

    // Unbounded runs (page cache free) are labelled and kept apart from budget-enforced ones.
    String name = a.getOrDefault("--report", "size-scaling");
    BenchReport report = new BenchReport(cgroup ? name : name + "-unbounded", quick)
        .config("sizesGiB", sizes).config("s3proxySizesGiB", s3proxySizes)
        .config("stateCacheMiB", cacheMiB)
        .config("heapMiB", "rocksdb-local " + rocksDbHeapMiB + ", disaggregated "
            + (heapMiB + cacheMiB)
            + " (its cache is on heap); -Xms = -Xmx, pre-touched")
        .config("memoryBudgetMiB", cgroup ? budgetMiB
            : "none (unbounded: page cache free)")
        .config("distributions", distributions).config("warmupSeconds", warmupS)
        .config("measureSeconds", measureS).config("checkpointIntervalMs", intervalMs)
        .config("keyedParallelism", PARALLELISM).config("maxParallelism", MAX_PARALLELISM)
        .config("valueBytes", BenchKeys.VALUE_BYTES)
        .config("cloudModel", latencyMs + " ms to first byte, " + mbps + " MB/s per request")
        .barChart("updatesPerSecond", "state", "distribution", "contender");
    record Cell(double gib, String contender) {}
    List<Cell> cells = new ArrayList<>();
    for (double gib : sizes) {
      for (String contender : contenders) {
        if (!contender.equals(S3PROXY) || s3proxySizes.contains(gib)) {
          cells.add(new Cell(gib, contender));
        }
      }
    }
    int done = 0;
    Map<String, Double> rocksDb = new HashMap<>();
    for (Cell cell : cells) {
      double gib = cell.gib();
      String contender = cell.contender();
      done++;
      System.out.printf("[%d/%d] %s, %.2f GiB of state ...%n", done, cells.size(), contender,
          gib);
      Path dir = work.resolve(contender + "-" + gib);
      Directories.deleteRecursively(dir);
      Files.createDirectories(dir);
      List<String> common = List.of("--dir", dir.toString(), "--gib", String.valueOf(gib),
          "--cache-mib", String.valueOf(cacheMiB), "--warmup-s", String.valueOf(warmupS),
          "--measure-s", String.valueOf(measureS), "--latency-ms", String.valueOf(latencyMs),
          "--mbps", String.valueOf(mbps), "--interval-ms", String.valueOf(intervalMs));
      long heap = contender.equals(RocksDbBackend.KIND) ? rocksDbHeapMiB : heapMiB + cacheMiB;
      // Reads into heap buffers go through a temporary direct buffer per thread, which the JDK
      // keeps at the largest size ever read unless capped: native memory outside any setting.
      List<String> jvm = List.of("-Xmx" + heap + "m", "-Xms" + heap + "m",
          "-XX:+AlwaysPreTouch", "-Djdk.nio.maxCachedBufferSize=262144");
      // The protocol model's S3Proxy runs here, outside the contender's memory budget (S3's
      // memory is not the worker's); it still shares the two cores.
      EmbeddedS3Server s3 = null;
      try {
        Map<String, String> env = new HashMap<>();
        if (contender.equals(S3PROXY)) {
          s3 = EmbeddedS3Server.start(dir.resolve("s3"));
          s3.createBucket(BUCKET);
          env.put(ENV_ENDPOINT, s3.endpoint().toString());
          env.put(ENV_ACCESS_KEY, s3.accessKey());
          env.put(ENV_SECRET_KEY, s3.secretKey());
        }
        List<String> load = new ArrayList<>(List.of("--run", contender, "--phase", "load"));
        load.addAll(common);
        ChildJvm.run(contender, System.getProperty("java.class.path"),
            SizeScalingBenchmark.class.getName(), load, dir, List.of("-Xmx4g"), 0, env);
        for (String distribution : distributions.split(",")) {
          List<String> args = new ArrayList<>(List.of("--run", contender, "--phase", "measure",
              "--distribution", distribution));
          args.addAll(common);
          Map<String, Object> row = new LinkedHashMap<>();
          row.put("state", String.format("%.2f GiB", gib));
          row.put("contender", contender);
          row.put("distribution", distribution);
          try {
            row.putAll(ChildJvm.run(contender, System.getProperty("java.class.path"),
                SizeScalingBenchmark.class.getName(), args, dir, jvm,
                cgroup ? budgetMiB : 0, env).get(0));
            if (row.containsKey("failure")) {
              report.row(row);
              continue;
            }
            double perSecond = ((Number) row.get("updatesPerSecond")).doubleValue();
            if (contender.equals(RocksDbBackend.KIND)) {
              rocksDb.put(gib + distribution, perSecond);
            }
            Double base = rocksDb.get(gib + distribution);
            row.put("vsRocksDbLocal", base == null || base == 0 ? null : perSecond / base);
          } catch (IllegalStateException e) {
            // A contender failing (for example killed at its memory limit) is a result too.
            System.out.println("  " + e.getMessage());
            row.put("failure", e.getMessage().lines().findFirst().orElse(""));
          }
          report.row(row);
        }
      } finally {
        if (s3 != null) {
          s3.close();
        }
        Directories.deleteRecursively(dir);
      }
    }
    report.note("updatesPerSecond: updates completed in the measured window after the warm-up, "
        + "divided by its length; windowMin/windowMax: the slowest and fastest 5 s window in it. "
        + "vsRocksDbLocal: this row's throughput over rocksdb-local's at the same size and "
        + "distribution. hitRatio: the workers' block caches over the measured window "
        + "(disaggregated only; RocksDB's block cache and the page cache are not counted). "
        + "firstRecordMs: job submitted from the loaded state to the first completed update "
        + "(rocksdb-local copies its files from the bucket first). Each distribution starts "
        + "after the OS page cache is dropped, on a fresh cluster with empty caches. "
        + "rocksdb-local's bucket (checkpoints, restore) has no latency model: it is off its "
        + "read path, so its checkpoint and first-record times are not comparable with "
        + "disaggregated's here (job-checkpoint compares those with the same model).");
    System.out.println("wrote " + report.write());
  }

  // ---------------------------------------------------------------------------- one contender

  /**
   * One phase of one contender: {@code load} builds the state and writes the savepoint's
   * metadata to {@code loaded.json}; {@code measure} runs the job for one distribution from it
   * (each in a fresh JVM: RocksDB's native memory is not given back when a job ends, so a second
   * job in the same process would start with less of the budget).
   */
  private static void runContender(Map<String, String> a) throws Exception {
    String contender = a.get("--run");
    Path dir = Path.of(a.get("--dir"));
    double gib = Double.parseDouble(a.get("--gib"));
    long cacheBytes = Long.parseLong(a.get("--cache-mib")) << 20;
    long keys = StatePreloader.keysFor(gib);
    boolean s3proxy = contender.equals(S3PROXY);
    RuntimeConfig runtime = RuntimeConfig.defaults().withParallelism(PARALLELISM)
        .withMaxParallelism(MAX_PARALLELISM)
        .withBackend(s3proxy ? DisaggregatedBackend.KIND : contender)
        .withStoreOptions(StoreOptions.defaults().withMaxParallelism(MAX_PARALLELISM))
        .withLocalStateDirectory(dir.resolve("rocksdb"))
        .withRocksDbBlockCacheBytes(cacheBytes / PARALLELISM);
    Path loadedFile = dir.resolve("loaded.json");
    ObjectStore bucket = s3proxy
        ? new S3ObjectStore(S3Config.forBucket(BUCKET)
            .withEndpoint(URI.create(System.getenv(ENV_ENDPOINT)), true)
            .withCredentials(System.getenv(ENV_ACCESS_KEY), System.getenv(ENV_SECRET_KEY)))
        // S3 serves requests in parallel: for disaggregated, enough I/O threads that the bucket
        // is no queue (with 4, compaction's 4 MiB reads held point reads back by tens of ms).
        // rocksdb-local keeps 4: it only checkpoints to and restores from its bucket, and a
        // restore reads whole files, 64 MiB each, into its small heap.
        : new LocalDirectoryObjectStore(dir.resolve("bucket"), false,
            contender.equals(DisaggregatedBackend.KIND) ? 32 : 4);
    try (SimulatedNetworkObjectStore objects = new SimulatedNetworkObjectStore(bucket,
        NetworkModel.none())) {
      if (a.get("--phase").equals("load")) {
        long t0 = System.nanoTime();
        CheckpointMetadata loaded = StatePreloader.preload(objects, runtime, OPERATOR, STATE,
            keys, "sequence", keys);
        Files.write(loadedFile, loaded.toJson());
        String text = String.format("%,d keys (%.2f GiB) loaded in %.0f s", keys,
            StatePreloader.gibOf(keys),
            (System.nanoTime() - t0) / 1e9);
        ChildJvm.progress(text);
        ChildJvm.result(Map.of("loaded", text));
        return;
      }
      // rocksdb-local reads its local files; its bucket only receives checkpoints.
      if (contender.equals(DisaggregatedBackend.KIND)) {
        objects.setModel(new NetworkModel(
            Duration.ofMillis(Long.parseLong(a.get("--latency-ms"))),
            Long.parseLong(a.get("--mbps")) * 1_000_000));
      }
      KeyedUpdateWorkload w = new KeyedUpdateWorkload(keys, Long.MAX_VALUE,
          a.get("--distribution"), PARALLELISM, PARALLELISM,
          Long.parseLong(a.get("--interval-ms")), cacheBytes >> 20);
      Map<String, Object> result;
      try {
        result = measure(w, runtime, objects,
            CheckpointMetadata.parse(loadedFile.toString(), Files.readAllBytes(loadedFile)),
            cacheBytes, Integer.parseInt(a.get("--warmup-s")),
            Integer.parseInt(a.get("--measure-s")));
      } catch (IllegalStateException e) {
        result = new LinkedHashMap<>(Map.of("failure", e.getMessage()));
      }
      result.put("stateGiB", StatePreloader.gibOf(keys));
      ChildJvm.result(result);
    }
  }

  private static Map<String, Object> measure(KeyedUpdateWorkload w, RuntimeConfig runtime,
      ObjectStore objects, CheckpointMetadata loaded, long cacheBytes, int warmupS,
      int measureS) throws Exception {
    boolean dropped = dropPageCache();
    StreamEnvironment env = StreamEnvironment.plan(runtime);
    KeyedUpdateWorkload.KeyGenerator keys = w.keyGenerator();
    env.fromSource(new StratusKeyedUpdate.Sequence(w.records()),
            WatermarkStrategy.noWatermarks(), "sequence", 1)
        .map(keys::keyOf)
        .returns(Serdes.LONG)
        .keyBy(k -> k, Serdes.LONG)
        .process(new StratusKeyedUpdate.Update(w.records()), OPERATOR)
        .sinkTo(new DiscardingSink<>());
    JobDefinition job = new JobDefinition(env.graph(w.distribution()), runtime,
        CheckpointConfig.defaults().withInterval(Duration.ofMillis(w.intervalMs()))
            .withRetained(2),
        RestartStrategy.none());
    // Two workers share the budget, as two task managers' slots would.
    try (EmbeddedCluster cluster = new EmbeddedCluster(objects, PARALLELISM,
        BlockCacheConfig.memoryOnly(cacheBytes / PARALLELISM), Duration.ofMillis(500))) {
      cluster.catalog().register(job);
      long count0 = UpdateProgress.completedCount();
      long submitted = System.nanoTime();
      JobController controller = cluster.coordinator().submit(w.distribution(), loaded,
          Map.of());
      long deadline = submitted + TimeUnit.MINUTES.toNanos(15);
      while (UpdateProgress.completedCount() == count0) {
        if (System.nanoTime() > deadline || controller.result().isDone()) {
          throw new IllegalStateException("the job processed nothing: "
              + controller.status().get());
        }
        Thread.sleep(1);
      }
      double firstRecordMs = (System.nanoTime() - submitted) / 1e6;
      Thread.sleep(warmupS * 1000L);
      long[] cache0 = cacheLookups(cluster);
      long start = System.nanoTime();
      long first = UpdateProgress.completedCount();
      long previous = first;
      List<Double> windows = new ArrayList<>();
      for (int s = 5; s <= measureS; s += 5) {
        TimeUnit.NANOSECONDS.sleep(start + s * 1_000_000_000L - System.nanoTime());
        long now = UpdateProgress.completedCount();
        windows.add((now - previous) / 5.0);
        previous = now;
        ChildJvm.progress(String.format("%s: %,.0f updates/s in the last 5 s", w.distribution(),
            windows.get(windows.size() - 1)));
      }
      long last = UpdateProgress.completedCount();
      double seconds = (System.nanoTime() - start) / 1e9;
      long[] cache1 = cacheLookups(cluster);
      JobStatus status = controller.status().get();
      if (status.state() != JobState.RUNNING || status.restarts() > 0) {
        throw new IllegalStateException("the job did not run through the measurement: "
            + status.state() + ", " + status.restarts() + " restart(s), last failure: "
            + status.lastFailure());
      }
      List<Double> checkpoints = new ArrayList<>();
      for (JobStatus.CheckpointSummary c : status.checkpoints()) {
        checkpoints.add((double) c.durationMillis());
      }
      controller.cancel().get(5, TimeUnit.MINUTES);

      double[] spread = BenchReport.minMedianMax(windows);
      long hits = cache1[0] - cache0[0];
      long misses = cache1[1] - cache0[1];
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("distribution", w.distribution());
      out.put("updatesPerSecond", (last - first) / seconds);
      out.put("windowMin", spread[0]);
      out.put("windowMax", spread[2]);
      out.put("hitRatio", hits + misses == 0 ? null : (double) hits / (hits + misses));
      out.put("firstRecordMs", firstRecordMs);
      out.put("checkpointMsMedian", checkpoints.isEmpty() ? null
          : BenchReport.minMedianMax(checkpoints)[1]);
      out.put("stateMiBReported", status.stateBytes() / 1048576.0);
      out.put("pageCacheDropped", dropped);
      return out;
    }
  }

  /** Memory-cache hits and misses summed over the workers. */
  private static long[] cacheLookups(EmbeddedCluster cluster) {
    long[] sum = new long[2];
    for (Worker worker : cluster.workers()) {
      CacheMetrics m = worker.resources().store().cache().metrics();
      sum[0] += m.memory().hits();
      sum[1] += m.misses();
    }
    return sum;
  }

  /** Empties the OS page cache (needs root), so no run reads what an earlier one left there. */
  private static boolean dropPageCache() {
    try {
      new ProcessBuilder("sync").inheritIO().start().waitFor();
      Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "1");
      return true;
    } catch (IOException | InterruptedException | SecurityException e) {
      ChildJvm.progress("page cache not dropped: " + e.getMessage());
      return false;
    }
  }
}
