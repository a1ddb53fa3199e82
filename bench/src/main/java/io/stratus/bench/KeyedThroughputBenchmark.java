package io.stratus.bench;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.cache.HybridBlockCache;
import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.api.StreamEnvironment;
import io.stratus.runtime.execution.JobResult;
import io.stratus.runtime.execution.RuntimeResources;
import io.stratus.runtime.functions.Collector;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.sink.Sink;
import io.stratus.runtime.sink.SinkWriter;
import io.stratus.runtime.source.Source;
import io.stratus.runtime.source.OffsetReader;
import io.stratus.runtime.source.SourceReader;
import io.stratus.runtime.source.SourceRecord;
import io.stratus.runtime.state.StateDescriptor;
import io.stratus.runtime.state.ValueState;
import io.stratus.store.lsm.StoreOptions;
import io.stratus.store.lsm.StoreResources;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.NetworkModel;
import io.stratus.store.objectstore.SimulatedNetworkObjectStore;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Records per second of a keyed update job (read a key's 100-byte value, write a new one, emit):
 * first every key is created once, then uniformly random keys are updated; throughput is
 * measured over the update phase only.
 *
 * <ol>
 *   <li>Per backend, state that fits in the cache (zero latency).
 *   <li>The disaggregated backend with its state 4x the block cache, against a local directory
 *       with 0 ms and 10 ms injected first-byte latency; async execution (many records in
 *       flight) against synchronous access (one record at a time, as Flink 1.x).
 * </ol>
 *
 * <p>Run: {@code bench/run keyed-throughput [--quick true]}.
 */
public final class KeyedThroughputBenchmark {

  private KeyedThroughputBenchmark() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = BenchArgs.parse(args);
    boolean quick = Boolean.parseBoolean(a.getOrDefault("--quick", "false"));
    int rounds = Integer.parseInt(a.getOrDefault("--rounds", quick ? "1" : "3"));
    BenchReport report = new BenchReport("keyed-throughput", quick)
        .config("rounds", rounds).config("valueBytes", BenchKeys.VALUE_BYTES)
        .config("parallelism", 2);
    // More than a 64 MiB memtable holds, less than the 256 MiB cache.
    int fitKeys = quick ? 300_000 : 1_000_000;
    long fitUpdates = quick ? 300_000 : 2_000_000;
    for (int r = 0; r < rounds; r++) {
      for (String backend : new String[] {"heap", "rocksdb-local", "disaggregated"}) {
        report.row(run("fits-in-cache", backend, fitKeys, fitUpdates, Duration.ZERO, 1000,
            256L << 20, 64L << 20, r));
      }
    }
    int bigKeys = quick ? 150_000 : 400_000;
    for (int r = 0; r < rounds; r++) {
      report.row(run("state-4x-cache", "disaggregated", bigKeys, quick ? 150_000 : 600_000,
          Duration.ZERO, 2000, 12L << 20, 4L << 20, r));
      report.row(run("state-4x-cache", "disaggregated", bigKeys, quick ? 150_000 : 600_000,
          Duration.ofMillis(10), 2000, 12L << 20, 4L << 20, r));
      report.row(run("state-4x-cache", "disaggregated", bigKeys, quick ? 1_000 : 3_000,
          Duration.ofMillis(10), 1, 12L << 20, 4L << 20, r));
    }
    report.note("Update phase only. maxInFlight = records per task started or waiting for "
        + "their key (1 = synchronous access). state-4x-cache: memory-only cache of 12 MiB, "
        + "4 MiB memtables, so most reads load a block from the (delayed) object store.");
    System.out.println("Wrote " + report.write());
    System.exit(0);
  }

  private static Map<String, Object> run(String scenario, String backend, int keys,
      long updates, Duration latency, int maxInFlight, long cacheBytes, long memtableBytes,
      int round) throws IOException {
    Path dir = Files.createTempDirectory("stratus-bench-keyed");
    Vertx vertx = Vertx.vertx();
    ThroughputSink sink = new ThroughputSink(keys);
    try (LocalDirectoryObjectStore local = new LocalDirectoryObjectStore(dir.resolve("bucket"));
        SimulatedNetworkObjectStore objects = new SimulatedNetworkObjectStore(local,
            NetworkModel.none());
        HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(cacheBytes));
        StoreResources store = StoreResources.create(objects, cache)) {
      RuntimeConfig config = RuntimeConfig.defaults().withBackend(backend).withParallelism(2)
          .withMaxInFlight(maxInFlight).withLocalStateDirectory(dir.resolve("rocksdb"))
          .withStoreOptions(StoreOptions.defaults().withMemtableBytes(memtableBytes));
      StreamEnvironment env = StreamEnvironment.create(config, new RuntimeResources(vertx, store));
      sink.onPhaseChange = () -> objects.setModel(NetworkModel.latency(latency));
      env.fromSource(new UpdateSource(keys, updates), WatermarkStrategy.noWatermarks(), "updates")
          .keyBy(k -> k, Serdes.LONG)
          .process(new UpdateFunction(), "update")
          .sinkTo(sink);
      JobResult result = env.execute("keyed-throughput").join();
      double seconds = (sink.end.get() - sink.phaseStart.get()) / 1e9;
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("scenario", scenario);
      row.put("backend", backend);
      row.put("latencyMs", latency.toMillis());
      row.put("maxInFlight", maxInFlight);
      row.put("keys", keys);
      row.put("updates", updates);
      row.put("recordsPerSecond", updates / seconds);
      row.put("cacheHitRatio", cache.metrics().hitRatio());
      row.put("observedMaxInFlight", result.maxInFlight().values().stream()
          .mapToInt(Integer::intValue).max().orElse(0));
      row.put("round", round + 1);
      return row;
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().join();
      Directories.deleteRecursively(dir);
    }
  }

  /** Every key once (ids 0..keys-1), then {@code updates} uniformly random keys. */
  static final class UpdateSource implements Source<Long> {
    private final int keys;
    private final long updates;

    UpdateSource(int keys, long updates) {
      this.keys = keys;
      this.updates = updates;
    }

    @Override
    public boolean bounded() {
      return true;
    }

    @Override
    public SourceReader<Long> createReader(int split, int splits) {
      return new OffsetReader<>() {
        private long next;
        private final SplittableRandom random = new SplittableRandom(99);

        @Override
        public List<SourceRecord<Long>> poll(int max) {
          if (next >= keys + updates) {
            return null;
          }
          List<SourceRecord<Long>> out = new ArrayList<>(max);
          while (out.size() < max && next < keys + updates) {
            long key = next < keys ? next : random.nextInt(keys);
            out.add(new SourceRecord<>(key, Long.MIN_VALUE));
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
          throw new UnsupportedOperationException("the benchmark source does not rewind");
        }
      };
    }
  }

  /** Reads the key's value and writes a new one: a read-modify-write per record. */
  static final class UpdateFunction extends KeyedProcessFunction<Long, Long, Long> {
    private transient ValueState<byte[]> value;

    @Override
    public void open(OpenContext context) {
      value = context.state(new StateDescriptor.Value<>("value", Serdes.BYTES));
    }

    @Override
    public void processElement(Long key, Context<Long> context, Collector<Long> out) {
      value.value().thenAccept(old -> {
        value.update(BenchKeys.nextValue(key, old));
        out.collect(key);
      });
    }
  }

  /** Counts outputs; notes when the creation phase ends and when the last record arrives. */
  static final class ThroughputSink implements Sink<Long> {
    private final long phaseOne;
    private final AtomicLong count = new AtomicLong();
    final AtomicLong phaseStart = new AtomicLong();
    final AtomicLong end = new AtomicLong();
    volatile Runnable onPhaseChange = () -> { };

    ThroughputSink(long phaseOne) {
      this.phaseOne = phaseOne;
    }

    @Override
    public SinkWriter<Long> createWriter(int subtask, int parallelism) {
      return record -> {
        long n = count.incrementAndGet();
        if (n == phaseOne) {
          onPhaseChange.run();
          phaseStart.set(System.nanoTime());
        }
        end.set(System.nanoTime());
      };
    }
  }
}
