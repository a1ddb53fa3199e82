package io.stratus.bench;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.network.DataPlaneConfig;
import io.stratus.scheduler.EmbeddedCluster;
import io.stratus.scheduler.JobController;
import io.stratus.scheduler.lease.LeaseConfig;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code bench/run keyed-network}: the keyed update job ({@link SideBySideBenchmark}'s) on two
 * workers, once with records between the workers in memory and once over each worker's data
 * server (loopback TCP, serialized into buffers, credits), rounds alternating, each run in a
 * fresh JVM. Both workers are in one JVM either way: what differs is only the exchange.
 */
public final class KeyedNetworkBenchmark {

  private KeyedNetworkBenchmark() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = BenchArgs.parse(args);
    if (a.containsKey("--run")) {
      ChildJvm.result(run(a.get("--run").equals("network"), KeyedUpdateWorkload.parse(a),
          Path.of(a.get("--dir"))));
      return;
    }
    boolean quick = Boolean.parseBoolean(a.getOrDefault("--quick", "false"));
    a.putIfAbsent("--keys", quick ? "200000" : "1000000");
    a.putIfAbsent("--records", quick ? "1000000" : "4000000");
    a.putIfAbsent("--cache-mib", "512");
    KeyedUpdateWorkload w = KeyedUpdateWorkload.parse(a);
    int rounds = Integer.parseInt(a.getOrDefault("--rounds", quick ? "2" : "5"));
    BenchReport report = new BenchReport("keyed-network", quick);
    report.config("workload", w).config("rounds", rounds);
    List<Double> ratios = new ArrayList<>();
    for (int r = 1; r <= rounds; r++) {
      Map<String, Double> perMode = new LinkedHashMap<>();
      for (String mode : r % 2 == 1 ? List.of("memory", "network")
          : List.of("network", "memory")) {
        Path dir = Files.createTempDirectory("keyed-network-" + mode);
        List<String> args2 = new ArrayList<>(List.of("--run", mode, "--dir", dir.toString()));
        args2.addAll(List.of(w.toArgs()));
        Map<String, Object> result = ChildJvm.run(mode, System.getProperty("java.class.path"),
            KeyedNetworkBenchmark.class.getName(), args2, dir, List.of("-Xmx3g"), 0, Map.of())
            .get(0);
        Directories.deleteRecursively(dir);
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("exchange", mode);
        row.put("round", r);
        row.putAll(result);
        report.row(row);
        perMode.put(mode, ((Number) result.get("updatesPerSecond")).doubleValue());
      }
      ratios.add(perMode.get("network") / perMode.get("memory"));
    }
    double[] mmm = BenchReport.minMedianMax(ratios);
    report.note(String.format("network / memory updates/s per round: median %.2f (min %.2f,"
        + " max %.2f), rounds %s", mmm[1], mmm[0], mmm[2], ratios));
    report.barChart("updatesPerSecond", "exchange");
    System.out.println("wrote " + report.write());
  }

  private static Map<String, Object> run(boolean network, KeyedUpdateWorkload w, Path dir)
      throws Exception {
    LocalDirectoryObjectStore objects = new LocalDirectoryObjectStore(dir.resolve("bucket"));
    try (EmbeddedCluster cluster = new EmbeddedCluster(objects, 2,
        // Heartbeats every second (lost after 10 s): on two saturated cores a 2 s timeout
        // declared busy workers lost (seen in this benchmark's first runs).
        BlockCacheConfig.memoryOnly((w.cacheMiB() << 20) / 2), Duration.ofSeconds(1),
        LeaseConfig.defaults(), "keyed-network benchmark",
        network ? DataPlaneConfig.defaults() : null)) {
      cluster.catalog().register(SideBySideBenchmark.definition("update", w, dir));
      JobController job = cluster.coordinator().submit("update", null, Map.of());
      double perSecond = UpdateProgress.await(w.records(), job, Duration.ofMinutes(20));
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("updatesPerSecond", perSecond);
      out.put("restarts", job.status().get().restarts());
      long bytes = 0;
      for (var worker : cluster.workers()) {
        if (worker.channels().dataPlane() != null) {
          bytes += worker.channels().dataPlane().bytesSent();
        }
      }
      out.put("networkMiB", bytes / 1048576.0);
      job.cancel().get(5, TimeUnit.MINUTES);
      return out;
    }
  }
}
