package io.stratus.bench;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.api.StreamEnvironment;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.sink.DiscardingSink;
import io.stratus.scheduler.CheckpointConfig;
import io.stratus.scheduler.CheckpointMetadata;
import io.stratus.scheduler.EmbeddedCluster;
import io.stratus.scheduler.JobController;
import io.stratus.scheduler.JobDefinition;
import io.stratus.scheduler.JobStatus;
import io.stratus.scheduler.RestartStrategy;
import io.stratus.store.lsm.StoreOptions;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Stratus side by side with Apache Flink 2.0 (EmbeddedRocksDB, ForSt) on one keyed update
 * workload ({@link KeyedUpdateWorkload}), each contender in its own JVM with the same heap and
 * the same state-cache budget, one after the other on this machine, optionally each in a memory
 * cgroup whose limit covers heap, off-heap and page cache. Per contender: updates per second,
 * checkpoint durations while it runs, and the time from submitting a restore of its last
 * checkpoint at another parallelism to the first record processed.
 *
 * <p>Run: {@code bench/run side-by-side [--quick true]} (builds bench-flink with {@code -Pflink}
 * and passes its classpath). Contenders run as
 * {@code SideBySideBenchmark --run stratus} and {@code FlinkKeyedUpdate --run flink-rocksdb|
 * flink-forst}; each prints one {@code RESULT {json}} line.
 */
public final class SideBySideBenchmark {

  private SideBySideBenchmark() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = BenchArgs.parse(args);
    if (a.containsKey("--run")) {
      KeyedUpdateWorkload w = KeyedUpdateWorkload.parse(a);
      Map<String, Object> result = runStratus(w, Path.of(a.get("--dir")));
      ChildJvm.result(result);
      System.exit(0);
    }
    drive(a);
  }

  // ---------------------------------------------------------------------------------- driver

  private static void drive(Map<String, String> a) throws Exception {
    boolean quick = Boolean.parseBoolean(a.getOrDefault("--quick", "false"));
    int rounds = Integer.parseInt(a.getOrDefault("--rounds", quick ? "1" : "3"));
    long heapMiB = Long.parseLong(a.getOrDefault("--heap-mib", "2048"));
    long budgetMiB = Long.parseLong(a.getOrDefault("--budget-mib", "4096"));
    String flinkClasspath = a.get("--flink-classpath");
    Map<String, String> workloadArgs = new LinkedHashMap<>(a);
    workloadArgs.putIfAbsent("--keys", quick ? "300000" : "2000000");
    workloadArgs.putIfAbsent("--records", quick ? "1000000" : "5000000");
    workloadArgs.putIfAbsent("--cache-mib", quick ? "64" : "128");
    List<String> distributions = List.of(a.getOrDefault("--distributions", "uniform,zipfian")
        .split(","));
    List<String> contenders = new ArrayList<>(List.of("stratus"));
    if (flinkClasspath != null) {
      contenders.addAll(List.of("flink-rocksdb", "flink-forst"));
    }
    Path work = Path.of(a.getOrDefault("--work-dir", "/tmp/stratus-side-by-side"));
    boolean cgroup = ChildJvm.canLimitMemory()
        && !a.getOrDefault("--cgroup", "true").equals("false");

    BenchReport report = new BenchReport("side-by-side", quick)
        .config("rounds", rounds).config("heapMiB", heapMiB)
        .config("memoryBudgetMiB", cgroup ? budgetMiB : "none (no writable memory cgroup)")
        .config("workload", String.join(" ", KeyedUpdateWorkload.parse(workloadArgs).toArgs()))
        .config("storage", "local disk for every contender: Stratus's object store is a local "
            + "directory, Flink's checkpoints and ForSt's primary directory are file:// paths")
        .config("flink", flinkClasspath == null ? "not run (no --flink-classpath)" : "2.0.0")
        .barChart("updatesPerSecond", "distribution", "contender")
        .barChart("checkpointMsMedian", "distribution", "contender")
        .barChart("restoreToFirstRecordMs", "distribution", "contender");
    int total = distributions.size() * contenders.size() * rounds;
    int done = 0;
    for (String distribution : distributions) {
      workloadArgs.put("--distribution", distribution);
      KeyedUpdateWorkload w = KeyedUpdateWorkload.parse(workloadArgs);
      for (int r = 0; r < rounds; r++) {
        for (String contender : contenders) {
          done++;
          System.out.printf("[%d/%d] %s, %s keys, round %d ...%n", done, total, contender,
              distribution, r + 1);
          Path dir = work.resolve(contender + "-" + distribution + "-" + r);
          Directories.deleteRecursively(dir);
          Files.createDirectories(dir);
          long started = System.nanoTime();
          List<String> args = new ArrayList<>(List.of("--run", contender, "--dir",
              dir.toString()));
          args.addAll(Arrays.asList(w.toArgs()));
          boolean flink = contender.startsWith("flink");
          Map<String, Object> result = ChildJvm.run(contender,
              flink ? flinkClasspath : System.getProperty("java.class.path"),
              flink ? "io.stratus.benchflink.FlinkKeyedUpdate"
                  : SideBySideBenchmark.class.getName(),
              args, dir, List.of("-Xmx" + heapMiB + "m"), cgroup ? budgetMiB : 0, Map.of()).get(0);
          Directories.deleteRecursively(dir);
          Map<String, Object> row = new LinkedHashMap<>();
          row.put("distribution", distribution);
          row.put("contender", contender);
          row.put("round", r + 1);
          row.putAll(result);
          row.put("wallSeconds", (System.nanoTime() - started) / 1e9);
          report.row(row);
        }
      }
    }
    report.note("Updates/s: the measured phase (every key created, then the updates), first to "
        + "last completed update. Checkpoint ms: every checkpoint completed during it (Flink: "
        + "end-to-end duration from its REST API; Stratus: trigger to _metadata written). "
        + "Restore: submit of a job restoring the last checkpoint at the new parallelism to its "
        + "first processed record, cluster already running.");
    Path md = report.write();
    System.out.println("wrote " + md);
  }

  // ---------------------------------------------------------------------------- the Stratus side

  /** The keyed update job: sequence → key → keyBy → update (disaggregated) → discard. */
  static JobDefinition definition(String name, KeyedUpdateWorkload w, Path dir) {
    RuntimeConfig runtime = RuntimeConfig.defaults().withParallelism(w.parallelism())
        .withMaxParallelism(128).withBackend("disaggregated")
        .withStoreOptions(StoreOptions.defaults().withMaxParallelism(128))
        .withLocalStateDirectory(dir.resolve("local"));
    StreamEnvironment env = StreamEnvironment.plan(runtime);
    KeyedUpdateWorkload.KeyGenerator keys = w.keyGenerator();
    env.fromSource(new StratusKeyedUpdate.Sequence(w.records()), WatermarkStrategy.noWatermarks(), "sequence", 1)
        .map(keys::keyOf)
        .returns(Serdes.LONG)
        .keyBy(k -> k, Serdes.LONG)
        .process(new StratusKeyedUpdate.Update(w.records()), "update")
        .sinkTo(new DiscardingSink<>());
    return new JobDefinition(env.graph(name), runtime,
        CheckpointConfig.defaults().withInterval(Duration.ofMillis(w.intervalMs()))
            .withRetained(2),
        RestartStrategy.none());
  }

  static Map<String, Object> runStratus(KeyedUpdateWorkload w, Path dir) throws Exception {
    LocalDirectoryObjectStore objects = new LocalDirectoryObjectStore(dir.resolve("bucket"));
    // Two workers share the budget, as two task managers' slots would.
    try (EmbeddedCluster cluster = new EmbeddedCluster(objects, 2,
        BlockCacheConfig.memoryOnly((w.cacheMiB() << 20) / 2), Duration.ofMillis(200))) {
      cluster.catalog().register(definition("update", w, dir));
      cluster.catalog().register(definition("restored", w, dir));
      JobController job = cluster.coordinator().submit("update", null, Map.of());
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(30);
      double perSecond = UpdateProgress.await(w.records(), job, Duration.ofMinutes(30));
      JobStatus status = job.status().get();
      List<Double> checkpoints = new ArrayList<>();
      for (JobStatus.CheckpointSummary c : status.checkpoints()) {
        checkpoints.add((double) c.durationMillis());
      }
      CheckpointMetadata last = job.triggerCheckpoint().get(10, TimeUnit.MINUTES);
      job.cancel().get(5, TimeUnit.MINUTES);

      UpdateProgress.restoring();
      long submitted = System.nanoTime();
      JobController restored = cluster.coordinator().submit("restored", last,
          Map.of("update", w.restoreTo()));
      while (UpdateProgress.firstAfterRestoreNanos() == 0) {
        if (System.nanoTime() > deadline || restored.result().isDone()) {
          throw new IllegalStateException("the restored job processed nothing: "
              + restored.status().get());
        }
        Thread.sleep(1);
      }
      long restoreNanos = UpdateProgress.firstAfterRestoreNanos() - submitted;
      restored.cancel().get(5, TimeUnit.MINUTES);
      return result(perSecond, checkpoints, restoreNanos / 1e6, status.stateBytes());
    }
  }

  /** The fields every contender reports. */
  public static Map<String, Object> result(double updatesPerSecond, List<Double> checkpointMs,
      double restoreMs, long stateBytes) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("updatesPerSecond", updatesPerSecond);
    double[] c = checkpointMs.isEmpty() ? new double[3] : BenchReport.minMedianMax(checkpointMs);
    out.put("checkpoints", checkpointMs.size());
    out.put("checkpointMsMin", c[0]);
    out.put("checkpointMsMedian", c[1]);
    out.put("checkpointMsMax", c[2]);
    out.put("restoreToFirstRecordMs", restoreMs);
    out.put("stateMiB", stateBytes / 1048576.0);
    return out;
  }
}
