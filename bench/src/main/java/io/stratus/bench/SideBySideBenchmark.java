package io.stratus.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.stratus.cache.BlockCacheConfig;
import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.api.StreamEnvironment;
import io.stratus.runtime.functions.Collector;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.sink.DiscardingSink;
import io.stratus.runtime.source.Source;
import io.stratus.runtime.source.SourceReader;
import io.stratus.runtime.source.SourceRecord;
import io.stratus.runtime.state.StateDescriptor;
import io.stratus.runtime.state.ValueState;
import io.stratus.scheduler.CheckpointConfig;
import io.stratus.scheduler.CheckpointMetadata;
import io.stratus.scheduler.EmbeddedCluster;
import io.stratus.scheduler.JobController;
import io.stratus.scheduler.JobDefinition;
import io.stratus.scheduler.JobStatus;
import io.stratus.scheduler.RestartStrategy;
import io.stratus.store.lsm.StoreOptions;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
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

  static final String RESULT = "RESULT ";

  private SideBySideBenchmark() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = BenchArgs.parse(args);
    if (a.containsKey("--run")) {
      KeyedUpdateWorkload w = KeyedUpdateWorkload.parse(a);
      Map<String, Object> result = runStratus(w, Path.of(a.get("--dir")));
      System.out.println(RESULT + new ObjectMapper().writeValueAsString(result));
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
    boolean cgroup = Files.isWritable(Path.of("/sys/fs/cgroup/memory"))
        && !a.getOrDefault("--cgroup", "true").equals("false");

    BenchReport report = new BenchReport("side-by-side").config("quick", quick)
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
          Map<String, Object> result = runChild(contender, w, dir, heapMiB,
              cgroup ? budgetMiB : 0, contender.startsWith("flink") ? flinkClasspath
                  : System.getProperty("java.class.path"));
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
    Path md = report.write(Path.of("bench/results"));
    System.out.println("wrote " + md);
  }

  /** Runs one contender in its own JVM (in a memory cgroup if {@code budgetMiB > 0}). */
  private static Map<String, Object> runChild(String contender, KeyedUpdateWorkload w, Path dir,
      long heapMiB, long budgetMiB, String classpath) throws Exception {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx" + heapMiB + "m", "-cp", absolute(classpath),
        contender.startsWith("flink") ? "io.stratus.benchflink.FlinkKeyedUpdate"
            : SideBySideBenchmark.class.getName(),
        "--run", contender, "--dir", dir.toString()));
    command.addAll(Arrays.asList(w.toArgs()));
    // Run in the contender's folder: a JVM crash report lands there, not in the repository.
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
        .start();
    Path group = budgetMiB > 0 ? limitMemory(contender, p.pid(), budgetMiB) : null;
    String result = null;
    List<String> tail = new ArrayList<>();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(),
        StandardCharsets.UTF_8))) {
      for (String line = out.readLine(); line != null; line = out.readLine()) {
        if (line.startsWith(RESULT)) {
          result = line.substring(RESULT.length());
        } else {
          tail.add(line);
          if (tail.size() > 30) {
            tail.remove(0);
          }
        }
      }
    } finally {
      p.waitFor(10, TimeUnit.MINUTES);
      if (group != null) {
        Files.deleteIfExists(group);
      }
    }
    if (result == null) {
      throw new IllegalStateException(contender + " exited " + p.exitValue()
          + " without a result; last output:\n" + String.join("\n", tail));
    }
    if (p.exitValue() != 0) {
      System.out.println("  (" + contender + " exited " + p.exitValue()
          + " after reporting its result)");
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> parsed = new ObjectMapper().readValue(result, Map.class);
    return parsed;
  }

  /** The classpath with every entry absolute: the child runs in another folder. */
  private static String absolute(String classpath) {
    List<String> out = new ArrayList<>();
    for (String entry : classpath.split(java.io.File.pathSeparator)) {
      boolean wildcard = entry.endsWith("*");
      Path p = Path.of(wildcard ? entry.substring(0, entry.length() - 1) : entry)
          .toAbsolutePath();
      out.add(wildcard ? p + java.io.File.separator + "*" : p.toString());
    }
    return String.join(java.io.File.pathSeparator, out);
  }

  /** Puts {@code pid} into a fresh memory cgroup (v1) limited to {@code budgetMiB}. */
  private static Path limitMemory(String name, long pid, long budgetMiB) throws IOException {
    Path group = Path.of("/sys/fs/cgroup/memory", "stratus-bench-" + name);
    if (!Files.isDirectory(group)) {
      Files.createDirectory(group);
    }
    Files.writeString(group.resolve("memory.limit_in_bytes"), String.valueOf(budgetMiB << 20));
    Files.writeString(group.resolve("cgroup.procs"), String.valueOf(pid));
    return group;
  }

  // ---------------------------------------------------------------------------- the Stratus side

  /** Reads each key's 100-byte value and writes the next one. */
  static final class Update extends KeyedProcessFunction<Long, Long, Long> {
    private final long records;
    private transient ValueState<byte[]> value;

    Update(long records) {
      this.records = records;
    }

    @Override
    public void open(OpenContext context) {
      value = context.state(new StateDescriptor.Value<>("value", Serdes.BYTES));
    }

    @Override
    public void processElement(Long key, Context<Long> context, Collector<Long> out) {
      value.value().thenAccept(previous -> {
        value.update(BenchKeys.nextValue(key, previous));
        UpdateProgress.completed(records);
      });
    }
  }

  /**
   * 0, 1, 2, ... as fast as the job takes them up to {@code records}, then one per 10 ms: empty
   * polls in between, so the source task waits on a timer instead of blocking its event loop.
   */
  static final class Sequence implements Source<Long> {
    private final long records;

    Sequence(long records) {
      this.records = records;
    }

    @Override
    public boolean bounded() {
      return false;
    }

    @Override
    public SourceReader<Long> createReader(int split, int splits) {
      return new SourceReader<>() {
        private long next;
        private long lastSlow;

        @Override
        public List<SourceRecord<Long>> poll(int max) {
          List<SourceRecord<Long>> out = new ArrayList<>();
          while (out.size() < max && next < records) {
            out.add(new SourceRecord<>(next, Long.MIN_VALUE));
            next++;
          }
          long now = System.currentTimeMillis();
          if (out.isEmpty() && now - lastSlow >= 10) {
            lastSlow = now;
            out.add(new SourceRecord<>(next, Long.MIN_VALUE));
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

  private static JobDefinition definition(String name, KeyedUpdateWorkload w, Path dir) {
    RuntimeConfig runtime = RuntimeConfig.defaults().withParallelism(w.parallelism())
        .withMaxParallelism(128).withBackend("disaggregated")
        .withStoreOptions(StoreOptions.defaults().withMaxParallelism(128))
        .withLocalStateDirectory(dir.resolve("local"));
    StreamEnvironment env = StreamEnvironment.plan(runtime);
    KeyedUpdateWorkload.KeyGenerator keys = w.keyGenerator();
    env.fromSource(new Sequence(w.records()), WatermarkStrategy.noWatermarks(), "sequence", 1)
        .map(keys::keyOf)
        .keyBy(k -> k, Serdes.LONG)
        .process(new Update(w.records()), "update")
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
      while (UpdateProgress.updatesPerSecond(w.records()) == 0) {
        if (System.nanoTime() > deadline || job.result().isDone()) {
          throw new IllegalStateException("the measured phase did not end: "
              + job.status().get());
        }
        Thread.sleep(20);
      }
      double perSecond = UpdateProgress.updatesPerSecond(w.records());
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
