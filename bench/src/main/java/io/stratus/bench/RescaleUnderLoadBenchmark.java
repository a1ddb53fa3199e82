package io.stratus.bench;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.api.StreamEnvironment;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.sink.DiscardingSink;
import io.stratus.runtime.source.Payment;
import io.stratus.s3.EmbeddedS3Server;
import io.stratus.scheduler.CheckpointConfig;
import io.stratus.scheduler.CheckpointMetadata;
import io.stratus.scheduler.CheckpointStorage;
import io.stratus.scheduler.EmbeddedCluster;
import io.stratus.scheduler.JobController;
import io.stratus.scheduler.JobDefinition;
import io.stratus.scheduler.JobStatus;
import io.stratus.scheduler.RescaleReport;
import io.stratus.scheduler.RestartStrategy;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.NetworkModel;
import io.stratus.store.objectstore.ObjectStore;
import io.stratus.store.objectstore.S3Config;
import io.stratus.store.objectstore.S3ObjectStore;
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
 * Checkpoints and rescales of a running job at a sustained write rate: the per-user counter
 * of {@link JobCheckpointBenchmark} (one 100-byte state update per payment), keyed parallelism
 * 2 on two workers, its state preloaded at each size. For each storage model, size and rate:
 * checkpoint durations over {@code --checkpoints} checkpoints, then a rescale 2 → 4 and one
 * back to 2, each with its phases ({@link RescaleReport}: halting checkpoint = halt and
 * upload, stop, deploy and restore, first record) and the time from the call until the source
 * rate over one second is back to 90 % of its rate before the call.
 *
 * <p>Storage models: {@code cloud} is a local directory behind a simulated network
 * ({@code --latency-ms} to first byte plus up to {@code --jitter-ms}, {@code --mbps} per
 * request); {@code protocol} is the embedded S3Proxy over HTTP with the AWS SDK, in this JVM.
 *
 * <p>{@code --in-flight-targets-ms} runs the job once per value, in that order, with
 * {@link RuntimeConfig#inFlightTargetMillis()} set to it (0: the fixed limit of 1,000 records):
 * list 0 and 200 alternately to compare them in one run.
 *
 * <p>Run: {@code bench/run rescale-load [--sizes-gib 0.1,4] [--rates 10000,50000,100000]
 * [--models cloud,protocol] [--checkpoints 15] [--interval-ms 1000]
 * [--in-flight-targets-ms 200]}.
 */
public final class RescaleUnderLoadBenchmark {

  private static final int PARALLELISM = 2;

  private RescaleUnderLoadBenchmark() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = BenchArgs.parse(args);
    boolean quick = Boolean.parseBoolean(a.getOrDefault("--quick", "false"));
    List<Double> sizes = new ArrayList<>();
    for (String s : a.getOrDefault("--sizes-gib", quick ? "0.05" : "0.1,4").split(",")) {
      sizes.add(Double.parseDouble(s));
    }
    List<Long> rates = new ArrayList<>();
    for (String s : a.getOrDefault("--rates", quick ? "20000" : "10000,50000,100000")
        .split(",")) {
      rates.add(Long.parseLong(s));
    }
    List<String> models = List.of(a.getOrDefault("--models", "cloud,protocol").split(","));
    int checkpoints = Integer.parseInt(a.getOrDefault("--checkpoints", quick ? "5" : "15"));
    long intervalMs = Long.parseLong(a.getOrDefault("--interval-ms", "1000"));
    long cacheMiB = Long.parseLong(a.getOrDefault("--cache-mib", "256"));
    NetworkModel cloud = new NetworkModel(
        Duration.ofMillis(Long.parseLong(a.getOrDefault("--latency-ms", "10"))),
        Long.parseLong(a.getOrDefault("--mbps", "100")) * 1_000_000,
        Duration.ofMillis(Long.parseLong(a.getOrDefault("--jitter-ms", "5"))));
    List<Long> targets = new ArrayList<>();
    for (String s : a.getOrDefault("--in-flight-targets-ms",
        String.valueOf(RuntimeConfig.defaults().inFlightTargetMillis())).split(",")) {
      targets.add(Long.parseLong(s));
    }
    Path work = Path.of(a.getOrDefault("--work-dir", System.getProperty("java.io.tmpdir")));

    BenchReport report = new BenchReport("rescale-load", quick)
        .config("sizesGiB", sizes).config("eventsPerSecond", rates).config("models", models)
        .config("checkpointIntervalMs", intervalMs).config("checkpointsMeasured", checkpoints)
        .config("workers", PARALLELISM).config("keyedParallelism", PARALLELISM)
        .config("cachePerWorkerMiB", cacheMiB).config("cloudNetwork", cloud)
        .config("valueBytes", BenchKeys.VALUE_BYTES).config("inFlightTargetsMs", targets);
    for (String model : models) {
      for (double gib : sizes) {
        for (Map<String, Object> row : runSize(model, gib, rates, targets, checkpoints,
            intervalMs, cacheMiB, cloud, work)) {
          report.row(row);
        }
      }
    }
    report.note("One state update (a 100-byte value) per event. achievedPerSecond = the source "
        + "rate over 3 s before the first rescale: below the target when the machine cannot "
        + "sustain it. checkpoint p99 of " + checkpoints + " checkpoints is their maximum. "
        + "Phases (medians over those checkpoints, each the slowest task's): align = first "
        + "barrier to the last input's barrier, drain = then until the records before it "
        + "completed, snapshot = then until the task acked (last delta and manifest "
        + "uploaded), finalize = last ack to the metadata written; the rest of a checkpoint's "
        + "duration is the barrier's way from the source to the tasks. "
        + "Rescale phases from RescaleReport: haltMs = the halting checkpoint (barrier, the "
        + "stores' last deltas and manifests, _metadata), stopMs, deployMs (restore by "
        + "pointers included), firstRecordMs, totalMs = the call to the first record at the "
        + "new parallelism; backTo90Ms = the call until the source rate over one second is "
        + "at least 90 % of its rate over the 3 s before the call.");
    System.out.println("Wrote " + report.write());
    System.exit(0);
  }

  private static List<Map<String, Object>> runSize(String model, double gib, List<Long> rates,
      List<Long> targets, int checkpoints, long intervalMs, long cacheMiB, NetworkModel cloud, Path work)
      throws Exception {
    Path dir = Files.createTempDirectory(work, "stratus-bench-rescale");
    long users = StatePreloader.keysFor(gib);
    RuntimeConfig runtime = BenchCountsJob.runtime();
    List<Map<String, Object>> rows = new ArrayList<>();
    EmbeddedS3Server s3 = model.equals("protocol") ? EmbeddedS3Server.start(dir.resolve("s3"))
        : null;
    SimulatedNetworkObjectStore network = s3 != null ? null : new SimulatedNetworkObjectStore(
        new LocalDirectoryObjectStore(dir.resolve("bucket")), NetworkModel.none());
    ObjectStore objects;
    if (s3 != null) {
      s3.createBucket("stratus");
      objects = new S3ObjectStore(S3Config.forBucket("stratus")
          .withEndpoint(s3.endpoint(), true).withCredentials(s3.accessKey(), s3.secretKey()));
    } else {
      objects = network;
    }
    try {
      long t0 = System.nanoTime();
      CheckpointMetadata start = StatePreloader.preload(objects, runtime,
          JobCheckpointBenchmark.OPERATOR, JobCheckpointBenchmark.STATE, users, "payments", 0);
      // Stored as a savepoint, as a user's would be: the coordinator's sweep after each run
      // deletes state files that no stored checkpoint or savepoint references.
      new CheckpointStorage(objects).write(start, "preload").join();
      System.out.printf("%s, state %.2f GiB: %,d users loaded in %.1f s%n", model, gib, users,
          (System.nanoTime() - t0) / 1e9);
      if (network != null) {
        network.setModel(cloud);
      }
      try (EmbeddedCluster cluster = new EmbeddedCluster(objects, PARALLELISM,
          BlockCacheConfig.memoryOnly(cacheMiB << 20), Duration.ofMillis(200))) {
        for (long rate : rates) {
          for (int t = 0; t < targets.size(); t++) {
            String name = "load-" + rate + "-" + t;
            RuntimeConfig jobRuntime = runtime.withInFlightTargetMillis(targets.get(t));
            StreamEnvironment env = StreamEnvironment.plan(jobRuntime);
            env.fromSource(JobCheckpointBenchmark.payments(users, rate),
                    WatermarkStrategy.noWatermarks(), "payments", 1)
                .returns(Serdes.record(Payment.class))
                .keyBy(Payment::userId, Serdes.LONG)
                .process(new JobCheckpointBenchmark.CountPerUser(), JobCheckpointBenchmark.OPERATOR)
                .sinkTo(new DiscardingSink<>());
            cluster.catalog().register(new JobDefinition(env.graph(name), jobRuntime,
                CheckpointConfig.defaults().withInterval(Duration.ofMillis(intervalMs))
                    .withTimeout(Duration.ofSeconds(60)).withRetained(3),
                RestartStrategy.fixedDelay(3, Duration.ZERO)));
            JobController job = cluster.coordinator().submit(name, start, Map.of());
            try {
              Map<String, Object> row = measure(job, checkpoints);
              Map<String, Object> full = new LinkedHashMap<>();
              full.put("model", model);
              full.put("stateGiB", StatePreloader.gibOf(users));
              full.put("targetPerSecond", rate);
              full.put("inFlightTargetMs", targets.get(t));
              full.putAll(row);
              rows.add(full);
            } finally {
              job.cancel().get(60, TimeUnit.SECONDS);
            }
          }
        }
      }
    } finally {
      objects.close();
      if (s3 != null) {
        s3.close();
      }
      Directories.deleteRecursively(dir);
    }
    return rows;
  }

  private static Map<String, Object> measure(JobController job, int checkpoints)
      throws Exception {
    long warm = JobCheckpointBenchmark.awaitCheckpoint(job, 0);
    warm = JobCheckpointBenchmark.awaitCheckpoint(job, warm + 1);
    double achieved = rate(job, 3000);
    long first = JobCheckpointBenchmark.awaitCheckpoint(job, warm);
    long last = first;
    while (last < first + checkpoints - 1) {
      last = JobCheckpointBenchmark.awaitCheckpoint(job, last);
    }
    List<Double> durations = new ArrayList<>();
    List<List<Double>> phases = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(),
        new ArrayList<>());
    for (JobStatus.CheckpointSummary c : job.status().get().checkpoints()) {
      if (c.id() >= first && c.id() <= last) {
        durations.add((double) c.durationMillis());
        phases.get(0).add((double) c.alignMillis());
        phases.get(1).add((double) c.drainMillis());
        phases.get(2).add((double) c.snapshotMillis());
        phases.get(3).add((double) c.finalizeMillis());
      }
    }
    double[] d = BenchReport.minMedianMax(durations);
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("achievedPerSecond", Math.round(achieved));
    row.put("checkpointMsMedian", d[1]);
    row.put("checkpointMsP99", d[2]);
    String[] names = {"alignMsMedian", "drainMsMedian", "snapshotMsMedian", "finalizeMsMedian"};
    for (int i = 0; i < names.length; i++) {
      row.put(names[i], BenchReport.minMedianMax(phases.get(i))[1]);
    }
    for (int p : new int[] {4, PARALLELISM}) {
      double before = rate(job, 3000);
      long called = System.nanoTime();
      RescaleReport r = job.rescale(Map.of(JobCheckpointBenchmark.OPERATOR, p))
          .get(10, TimeUnit.MINUTES);
      String tag = "to" + p + "_";
      row.put(tag + "haltMs", r.checkpointMillis());
      row.put(tag + "stopMs", r.stopMillis());
      row.put(tag + "deployMs", r.deployMillis());
      row.put(tag + "firstRecordMs", r.firstRecordMillis());
      row.put(tag + "totalMs", r.totalMillis());
      row.put(tag + "backTo90Ms", backTo(job, 0.9 * before, called));
      JobCheckpointBenchmark.awaitCheckpoint(job, r.checkpointId());
    }
    return row;
  }

  /** Source records per second over {@code millis}. */
  private static double rate(JobController job, long millis) throws Exception {
    long r0 = job.status().get().recordsIn();
    long t0 = System.nanoTime();
    Thread.sleep(millis);
    long r1 = job.status().get().recordsIn();
    return (r1 - r0) * 1e9 / (System.nanoTime() - t0);
  }

  /**
   * Milliseconds from {@code calledNanos} until the source rate over one second reaches
   * {@code target}; -1 if it does not within 30 s.
   */
  private static long backTo(JobController job, double target, long calledNanos)
      throws Exception {
    List<long[]> samples = new ArrayList<>();
    long deadline = calledNanos + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      long now = System.nanoTime();
      samples.add(new long[] {now, job.status().get().recordsIn()});
      for (long[] s : samples) {
        if (now - s[0] >= TimeUnit.SECONDS.toNanos(1)
            && now - s[0] < TimeUnit.MILLISECONDS.toNanos(1200)) {
          long[] latest = samples.get(samples.size() - 1);
          if ((latest[1] - s[1]) * 1e9 / (now - s[0]) >= target) {
            return TimeUnit.NANOSECONDS.toMillis(now - calledNanos);
          }
        }
      }
      Thread.sleep(50);
    }
    return -1;
  }
}
