package io.stratus.bench;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.api.StreamEnvironment;
import io.stratus.runtime.functions.Collector;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.sink.DiscardingSink;
import io.stratus.runtime.source.Payment;
import io.stratus.runtime.source.PaymentGenerator;
import io.stratus.runtime.source.RateLimitedSource;
import io.stratus.runtime.source.Source;
import io.stratus.runtime.state.DisaggregatedBackend;
import io.stratus.runtime.state.RocksDbBackend;
import io.stratus.runtime.state.StateDescriptor;
import io.stratus.runtime.state.ValueState;
import io.stratus.scheduler.CheckpointConfig;
import io.stratus.scheduler.CheckpointMetadata;
import io.stratus.scheduler.EmbeddedCluster;
import io.stratus.scheduler.JobController;
import io.stratus.scheduler.JobDefinition;
import io.stratus.scheduler.JobState;
import io.stratus.scheduler.JobStatus;
import io.stratus.scheduler.RescaleReport;
import io.stratus.scheduler.RestartStrategy;
import io.stratus.store.lsm.StoreOptions;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.NetworkModel;
import io.stratus.store.objectstore.SimulatedNetworkObjectStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A running job's checkpoints, recoveries and rescales at growing keyed state, per backend:
 * checkpoint duration and bytes uploaded at the same write rate, recovery time (task failure to
 * the first record processed again, its state read included), and rescale time (the call to
 * the first record processed at the new parallelism, 2 → 4 and 4 → 2). {@code rocksdb-local}
 * rescales the Flink 1.x way: each new task downloads the files of the snapshots that overlap
 * its key groups and rebuilds (or trims) a local RocksDB.
 *
 * <p>For each size the keyed state of a per-user counter (100-byte values) is built directly
 * with the job's own key layout, in key order, into the stores of the operator's two tasks;
 * a savepoint's {@code _metadata} pointing at them is written and the job starts from it on an
 * embedded cluster of two workers. The source is rate-limited, so every checkpoint interval
 * writes about the same delta. The object store is a local directory behind a cloud model
 * ({@code --latency-ms} to first byte, {@code --mbps} per request).
 *
 * <p>Run: {@code bench/run job-checkpoint [--quick true] [--sizes-gib 0.1,1,4] [--rate 5000]
 * [--backends disaggregated,rocksdb-local]}.
 */
public final class JobCheckpointBenchmark {

  static final String OPERATOR = "counts";
  static final String STATE = "count";
  static final int MAX_PARALLELISM = 128;
  private static final int PARALLELISM = 2;

  /** Set to make the next record fail; the time it failed; the first record after it. */
  static volatile boolean failNext;
  static volatile long failedAtNanos;
  static volatile long recoveredAtNanos;

  private JobCheckpointBenchmark() {}

  /** Counts payments per user in a 100-byte value (a count and padding). */
  static final class CountPerUser extends KeyedProcessFunction<Long, Payment, Long> {
    private transient ValueState<byte[]> count;
    private transient long openedAtNanos;

    @Override
    public void open(OpenContext context) {
      count = context.state(new StateDescriptor.Value<>(STATE, Serdes.BYTES));
      openedAtNanos = System.nanoTime();
    }

    @Override
    public void processElement(Payment p, Context<Long> context, Collector<Long> out) {
      if (failNext) {
        failNext = false;
        failedAtNanos = System.nanoTime();
        throw new IllegalStateException("injected failure");
      }
      count.value().thenAccept(old -> {
        // Only a task of the next attempt (opened after the failure) counts as recovered.
        if (failedAtNanos != 0 && openedAtNanos > failedAtNanos && recoveredAtNanos == 0) {
          recoveredAtNanos = System.nanoTime();
        }
        byte[] next = old == null ? BenchKeys.value(p.userId(), 0) : old;
        long n = 0;
        for (int i = 0; i < 8; i++) {
          n = (n << 8) | (next[i] & 0xFF);
        }
        n++;
        for (int i = 7; i >= 0; i--) {
          next[i] = (byte) n;
          n >>>= 8;
        }
        count.update(next);
        out.collect(p.userId());
      });
    }
  }

  /** Payments over {@code users} users at {@code perSecond} per second of wall time. */
  static Source<Payment> payments(long users, long perSecond) {
    return new RateLimitedSource<>(new PaymentGenerator(7, users, Long.MAX_VALUE, 1000, 0, 0),
        perSecond);
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> a = BenchArgs.parse(args);
    List<Double> sizes = new ArrayList<>();
    boolean quick = Boolean.parseBoolean(a.getOrDefault("--quick", "false"));
    for (String s : a.getOrDefault("--sizes-gib", quick ? "0.05,0.2" : "0.1,1,4").split(",")) {
      sizes.add(Double.parseDouble(s));
    }
    long rate = Long.parseLong(a.getOrDefault("--rate", "5000"));
    long intervalMs = Long.parseLong(a.getOrDefault("--interval-ms", "2000"));
    int checkpoints = Integer.parseInt(a.getOrDefault("--checkpoints", "5"));
    int failures = Integer.parseInt(a.getOrDefault("--failures", "3"));
    long cacheMiB = Long.parseLong(a.getOrDefault("--cache-mib", "256"));
    int latencyMs = Integer.parseInt(a.getOrDefault("--latency-ms", "15"));
    long mbps = Long.parseLong(a.getOrDefault("--mbps", "100"));
    Path work = Path.of(a.getOrDefault("--work-dir", System.getProperty("java.io.tmpdir")));
    NetworkModel cloud = new NetworkModel(Duration.ofMillis(latencyMs), mbps * 1_000_000);
    List<String> backends = List.of(a.getOrDefault("--backends",
        DisaggregatedBackend.KIND + "," + RocksDbBackend.KIND).split(","));

    BenchReport report = new BenchReport("job-checkpoint", quick)
        .config("sizesGiB", sizes).config("eventsPerSecond", rate)
        .config("checkpointIntervalMs", intervalMs).config("checkpointsMeasured", checkpoints)
        .config("failures", failures).config("workers", PARALLELISM)
        .config("keyedParallelism", PARALLELISM).config("maxParallelism", MAX_PARALLELISM)
        .config("cachePerWorkerMiB", cacheMiB).config("valueBytes", BenchKeys.VALUE_BYTES)
        .config("network", cloud).config("backends", backends);
    for (double gib : sizes) {
      for (String backend : backends) {
        report.row(runSize(backend, gib, rate, intervalMs, checkpoints, failures, cacheMiB,
            cloud, work));
      }
    }
    report.note("Checkpoint = barrier from the source through both keyed tasks, each store "
        + "seals its memtable, uploads it as an SST file and writes its manifest; then the "
        + "coordinator writes _metadata. uploadedMiB = the checkpoint's incremental state size "
        + "(SST bytes flushed since the previous one, summed over the tasks); "
        + "sstMiBPerIntervalWithCompaction adds the background compactions' SST writes; "
        + "manifestKiB and metadataKiB are per checkpoint. Recovery = from the injected "
        + "exception to the first record whose "
        + "state read completed in the next attempt (cancel, redeploy, restore by pointers, "
        + "source rewind, one state read); workers keep their block caches across the restart. "
        + "Rescale = JobController.rescale (what POST /jobs/{id}/rescale calls) to the first "
        + "record processed at the new parallelism: a checkpoint whose barrier halts the "
        + "sources, cancel, deploy; disaggregated tasks open their key groups by pointers, "
        + "rocksdb-local tasks download and rebuild.");
    System.out.println("Wrote " + report.write());
    System.exit(0);
  }

  private static Map<String, Object> runSize(String backend, double gib, long rate,
      long intervalMs, int checkpoints, int failures, long cacheMiB, NetworkModel cloud,
      Path work) throws Exception {
    Path dir = Files.createTempDirectory(work, "stratus-bench-job");
    long users = StatePreloader.keysFor(gib);
    RuntimeConfig runtime = RuntimeConfig.defaults().withParallelism(PARALLELISM)
        .withMaxParallelism(MAX_PARALLELISM).withBackend(backend)
        .withLocalStateDirectory(dir.resolve("rocksdb"))
        .withStoreOptions(StoreOptions.defaults().withMaxParallelism(MAX_PARALLELISM));
    try (SimulatedNetworkObjectStore network = new SimulatedNetworkObjectStore(
            new LocalDirectoryObjectStore(dir.resolve("bucket")), NetworkModel.none());
        WriteCountingObjectStore objects = new WriteCountingObjectStore(network)) {
      long t0 = System.nanoTime();
      CheckpointMetadata start = StatePreloader.preload(objects, runtime, OPERATOR, STATE,
          users, "payments", 0);
      System.out.printf("%s, state %.2f GiB: %,d users loaded in %.1f s%n", backend, gib, users,
          (System.nanoTime() - t0) / 1e9);
      network.setModel(cloud);

      StreamEnvironment env = StreamEnvironment.plan(runtime);
      env.fromSource(payments(users, rate), WatermarkStrategy.noWatermarks(), "payments", 1)
          .returns(Serdes.record(Payment.class))
          .keyBy(Payment::userId, Serdes.LONG)
          .process(new CountPerUser(), OPERATOR)
          .sinkTo(new DiscardingSink<>());
      JobDefinition job = new JobDefinition(env.graph("bench"), runtime,
          CheckpointConfig.defaults().withInterval(Duration.ofMillis(intervalMs))
              .withTimeout(Duration.ofSeconds(60)).withRetained(3),
          RestartStrategy.fixedDelay(100, Duration.ZERO));
      try (EmbeddedCluster cluster = new EmbeddedCluster(objects, PARALLELISM,
          BlockCacheConfig.memoryOnly(cacheMiB << 20), Duration.ofMillis(200))) {
        cluster.catalog().register(job);
        JobController controller = cluster.coordinator().submit("bench", start, Map.of());

        long firstMeasured = awaitCheckpoint(controller, 0) + 1;
        long sst0 = objects.bytesWritten("sst");
        long versions0 = objects.bytesWritten("versions");
        long jobs0 = objects.bytesWritten("jobs");
        long last = awaitCheckpoint(controller, firstMeasured + checkpoints - 2);
        double sstMiB = (objects.bytesWritten("sst") - sst0) / 1048576.0 / checkpoints;
        List<Double> uploaded = new ArrayList<>();
        double manifestKiB = (objects.bytesWritten("versions") - versions0) / 1024.0
            / checkpoints;
        double metadataKiB = (objects.bytesWritten("jobs") - jobs0) / 1024.0 / checkpoints;
        List<Double> durations = new ArrayList<>();
        for (JobStatus.CheckpointSummary c : controller.status().get().checkpoints()) {
          if (c.id() >= firstMeasured && c.id() <= last) {
            durations.add((double) c.durationMillis());
            uploaded.add(c.uploadedBytes() / 1048576.0);
          }
        }

        List<Double> recoveries = new ArrayList<>();
        for (int f = 0; f < failures; f++) {
          recoveredAtNanos = 0;
          failedAtNanos = 0;
          failNext = true;
          while (recoveredAtNanos == 0) {
            Thread.sleep(5);
          }
          recoveries.add((recoveredAtNanos - failedAtNanos) / 1e6);
          last = awaitCheckpoint(controller, last);
        }
        List<RescaleReport> rescales = new ArrayList<>();
        for (int p : new int[] {4, PARALLELISM}) {
          RescaleReport r = controller.rescale(Map.of(OPERATOR, p)).get(30, TimeUnit.MINUTES);
          System.out.println("  " + r);
          rescales.add(r);
          last = awaitCheckpoint(controller, last);
        }
        JobStatus status = controller.status().get();
        controller.cancel().get(60, TimeUnit.SECONDS);

        double[] d = BenchReport.minMedianMax(durations);
        double[] r = BenchReport.minMedianMax(recoveries);
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("backend", backend);
        row.put("stateGiB", StatePreloader.gibOf(users));
        row.put("users", users);
        row.put("checkpointMsMin", d[0]);
        row.put("checkpointMsMedian", d[1]);
        row.put("checkpointMsMax", d[2]);
        row.put("uploadedMiBMedian", BenchReport.minMedianMax(uploaded)[1]);
        row.put("sstMiBPerIntervalWithCompaction", sstMiB);
        row.put("manifestKiBPerCheckpoint", manifestKiB);
        row.put("metadataKiBPerCheckpoint", metadataKiB);
        row.put("recoveryMsMin", r[0]);
        row.put("recoveryMsMedian", r[1]);
        row.put("recoveryMsMax", r[2]);
        row.put("rescaleUpMs", rescales.get(0).totalMillis());
        row.put("rescaleUpRestoreMs", rescales.get(0).deployMillis());
        row.put("rescaleDownMs", rescales.get(1).totalMillis());
        row.put("rescaleDownRestoreMs", rescales.get(1).deployMillis());
        row.put("restarts", status.restarts());
        row.put("abortedCheckpoints", status.abortedCheckpoints());
        return row;
      }
    } finally {
      Directories.deleteRecursively(dir);
    }
  }

  /** Waits for a checkpoint newer than {@code after}; returns its id. */
  static long awaitCheckpoint(JobController job, long after) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (System.nanoTime() < deadline) {
      JobStatus s = job.status().get();
      if (s.state() == JobState.FAILED || s.state() == JobState.CANCELED) {
        throw new IllegalStateException("the job stopped: " + s);
      }
      List<JobStatus.CheckpointSummary> done = s.checkpoints();
      if (!done.isEmpty() && done.get(done.size() - 1).id() > after) {
        return done.get(done.size() - 1).id();
      }
      Thread.sleep(10);
    }
    throw new IllegalStateException("no checkpoint after " + after + " within 5 minutes");
  }
}
