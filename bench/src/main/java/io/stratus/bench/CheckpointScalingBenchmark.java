package io.stratus.bench;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.cache.HybridBlockCache;
import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.lsm.CheckpointHandle;
import io.stratus.store.lsm.StateStore;
import io.stratus.store.lsm.StoreOptions;
import io.stratus.store.lsm.StoreResources;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.NetworkModel;
import io.stratus.store.objectstore.SimulatedNetworkObjectStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Checkpoint duration and bytes uploaded for the same write delta at growing state sizes, and
 * the time to open half of the key groups from the checkpoint. The state is loaded in key order
 * (so loading is fast: files move down the levels without rewrites), then each round updates
 * {@code --delta-keys} random keys with 100-byte values and checkpoints. The object store is a
 * local directory behind a cloud model: {@code --latency-ms} to first byte and
 * {@code --mbps} per request.
 *
 * <p>Run: {@code bench/run checkpoint-scaling [--quick true] [--sizes-gib 0.1,1,4] [--rounds 3]}.
 */
public final class CheckpointScalingBenchmark {

  private CheckpointScalingBenchmark() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = BenchArgs.parse(args);
    List<Double> sizes = new ArrayList<>();
    boolean quick = Boolean.parseBoolean(a.getOrDefault("--quick", "false"));
    for (String s : a.getOrDefault("--sizes-gib", quick ? "0.05,0.2" : "0.1,1,4").split(",")) {
      sizes.add(Double.parseDouble(s));
    }
    int rounds = Integer.parseInt(a.getOrDefault("--rounds", quick ? "1" : "3"));
    int deltaKeys = Integer.parseInt(a.getOrDefault("--delta-keys", "200000"));
    int latencyMs = Integer.parseInt(a.getOrDefault("--latency-ms", "15"));
    long mbps = Long.parseLong(a.getOrDefault("--mbps", "100"));
    Path work = Path.of(a.getOrDefault("--work-dir", System.getProperty("java.io.tmpdir")));
    NetworkModel cloud = new NetworkModel(Duration.ofMillis(latencyMs), mbps * 1_000_000);

    BenchReport report = new BenchReport("checkpoint-scaling", quick)
        .config("sizesGiB", sizes).config("rounds", rounds).config("deltaKeys", deltaKeys)
        .config("valueBytes", BenchKeys.VALUE_BYTES).config("network", cloud)
        .config("store", "defaults: 64 MiB memtable and files, 16 KiB blocks");
    for (double gib : sizes) {
      report.row(runSize(gib, rounds, deltaKeys, cloud, work));
    }
    report.note("Checkpoint = seal the memtable, upload the delta, write the manifest "
        + "(conditional PUT). Open = StateStore.restore of key groups [0, 63] from the last "
        + "checkpoint: manifest read and parse, no SST read. min/median/max over the rounds.");
    System.out.println("Wrote " + report.write());
  }

  private static Map<String, Object> runSize(double gib, int rounds, int deltaKeys,
      NetworkModel cloud, Path work) throws IOException {
    Path dir = Files.createTempDirectory(work, "stratus-bench-ckpt");
    long targetBytes = (long) (gib * (1L << 30));
    long entries = targetBytes / (BenchKeys.VALUE_BYTES + 16);
    int perGroup = (int) (entries / 128);
    System.out.printf("State %.2f GiB: loading %,d keys in key order...%n", gib,
        (long) perGroup * 128);
    try (LocalDirectoryObjectStore local = new LocalDirectoryObjectStore(dir);
        SimulatedNetworkObjectStore objects = new SimulatedNetworkObjectStore(local,
            NetworkModel.none());
        HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(64L << 20));
        StoreResources resources = StoreResources.create(objects, cache)) {
      StoreOptions options = StoreOptions.defaults();
      Map<String, Object> row = new LinkedHashMap<>();
      try (StateStore store = StateStore.create(resources, options, "bench/ckpt",
          KeyGroupRange.all(128))) {
        long start = System.nanoTime();
        for (int g = 0; g < 128; g++) {
          for (int i = 0; i < perGroup; i++) {
            store.put(BenchKeys.keyInGroup(g, i), BenchKeys.value(i, 0));
          }
        }
        store.flush().join();
        store.awaitCompactions().join();
        CheckpointHandle base = store.checkpoint().join();
        System.out.printf("  loaded in %.1f s: %s%n", (System.nanoTime() - start) / 1e9,
            store.metrics());
        objects.setModel(cloud);
        SplittableRandom random = new SplittableRandom(3);
        List<Double> durations = new ArrayList<>();
        List<Double> uploaded = new ArrayList<>();
        CheckpointHandle last = base;
        for (int r = 0; r < rounds; r++) {
          for (int i = 0; i < deltaKeys; i++) {
            int g = random.nextInt(128);
            int id = random.nextInt(perGroup);
            store.put(BenchKeys.keyInGroup(g, id), BenchKeys.value(id, r + 1));
          }
          long written = objects.bytesWritten();
          long t0 = System.nanoTime();
          last = store.checkpoint().join();
          durations.add((System.nanoTime() - t0) / 1e6);
          uploaded.add((objects.bytesWritten() - written) / 1048576.0);
        }
        List<Double> opens = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
          long t0 = System.nanoTime();
          try (StateStore half = StateStore.restore(resources,
              options.withCompactionEnabled(false), "bench/open-" + r, KeyGroupRange.of(0, 63),
              List.of(last)).join()) {
            opens.add((System.nanoTime() - t0) / 1e6);
          }
        }
        double[] d = BenchReport.minMedianMax(durations);
        double[] u = BenchReport.minMedianMax(uploaded);
        double[] o = BenchReport.minMedianMax(opens);
        row.put("stateGiB", store.metrics().totalBytes() / (double) (1L << 30));
        row.put("files", last.files().size());
        row.put("checkpointMsMin", d[0]);
        row.put("checkpointMsMedian", d[1]);
        row.put("checkpointMsMax", d[2]);
        row.put("uploadedMiBMedian", u[1]);
        row.put("openMsMin", o[0]);
        row.put("openMsMedian", o[1]);
        row.put("openMsMax", o[2]);
      }
      return row;
    } finally {
      Directories.deleteRecursively(dir);
    }
  }
}
