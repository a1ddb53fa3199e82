package io.stratus.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.api.StreamEnvironment;
import io.stratus.runtime.functions.Collector;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.graph.JobGraph;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.sink.TransactionalFileSink;
import io.stratus.runtime.source.Payment;
import io.stratus.runtime.source.PaymentGenerator;
import io.stratus.runtime.state.StateDescriptor;
import io.stratus.runtime.state.ValueState;
import io.stratus.store.lsm.StoreOptions;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.ObjectStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stateful job over a replayable source, run with at least 10 injected failures (exceptions
 * at random records, and workers killed mid-run), produces exactly the committed output of a
 * run without failures: nothing lost, nothing twice.
 */
class ExactlyOnceTest {

  /** One split: records of a key then reach their task in one order, so running totals are
   * deterministic and two runs can be compared line by line. */
  private static final int SPLITS = 1;
  private static final long EVENTS_PER_SPLIT = 250_000;

  /** Shared by every task copy of the function: where to throw, counted across attempts. */
  static final AtomicLong PROCESSED = new AtomicLong();
  static volatile long[] failAt = new long[0];

  @TempDir
  Path dir;

  private EmbeddedCluster cluster;

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
    failAt = new long[0];
  }

  /** Counts payments and sums amounts per user; emits one line per payment. */
  static final class RunningTotals extends KeyedProcessFunction<Long, Payment, String> {
    private transient ValueState<long[]> totals;

    @Override
    public void open(OpenContext context) {
      totals = context.state(new StateDescriptor.Value<>("totals", new LongPairSerde()));
    }

    @Override
    public void processElement(Payment p, Context<Long> context, Collector<String> out) {
      long n = PROCESSED.incrementAndGet();
      for (long at : failAt) {
        if (at == n) {
          throw new IllegalStateException("injected failure at record " + n);
        }
      }
      totals.value().thenAccept(old -> {
        long count = old == null ? 1 : old[0] + 1;
        long sum = (old == null ? 0 : old[1]) + p.amountCents();
        totals.update(new long[] {count, sum});
        out.collect(p.userId() + "," + count + "," + sum);
      });
    }
  }

  /** Two longs. */
  static final class LongPairSerde implements io.stratus.runtime.serde.Serde<long[]> {
    @Override
    public void write(long[] value, io.stratus.store.sst.ByteArrayBuilder out) {
      out.writeLong(value[0]).writeLong(value[1]);
    }

    @Override
    public long[] read(io.stratus.store.sst.ByteReader in) {
      return new long[] {in.readLong(), in.readLong()};
    }
  }

  private JobDefinition job(String name, ObjectStore objects, String outputDir) {
    RuntimeConfig runtime = RuntimeConfig.defaults().withParallelism(3).withMaxParallelism(64)
        .withStoreOptions(StoreOptions.small().withMaxParallelism(64))
        .withLocalStateDirectory(dir.resolve("rocksdb"));
    StreamEnvironment env = StreamEnvironment.plan(runtime);
    env.fromSource(new PaymentGenerator(11, 2_000, EVENTS_PER_SPLIT, 1000, 0, 0),
            WatermarkStrategy.noWatermarks(), "payments", SPLITS)
        .keyBy(Payment::userId, Serdes.LONG)
        .process(new RunningTotals(), "totals")
        .sinkTo(new TransactionalFileSink<>(objects, outputDir, line -> line));
    JobGraph graph = env.graph(name);
    return new JobDefinition(graph, runtime,
        CheckpointConfig.defaults().withInterval(Duration.ofMillis(150)).withRetained(2),
        RestartStrategy.fixedDelay(100, Duration.ofMillis(20)));
  }

  private static List<String> sorted(List<String> lines) {
    List<String> out = new ArrayList<>(lines);
    out.sort(null);
    return out;
  }

  @Test
  void outputWithTenFailuresEqualsOutputWithout() throws Exception {
    ObjectStore objects = new LocalDirectoryObjectStore(dir.resolve("bucket"));
    cluster = new EmbeddedCluster(objects, 3, BlockCacheConfig.memoryOnly(8 << 20),
        Duration.ofMillis(100));

    JobDefinition clean = job("clean", objects, "out/clean");
    cluster.catalog().register(clean);
    JobStatus cleanStatus = cluster.coordinator().submit("clean", null, java.util.Map.of())
        .result().get(120, TimeUnit.SECONDS);
    assertEquals(JobState.FINISHED, cleanStatus.state(), String.valueOf(cleanStatus));
    List<String> expected = sorted(((TransactionalFileSink<?>) sinkOf(clean)).readCommitted());
    assertEquals(SPLITS * EVENTS_PER_SPLIT, expected.size());

    long seed = System.nanoTime();
    Random random = new Random(seed);
    JobDefinition faulty = job("faulty", objects, "out/faulty");
    cluster.catalog().register(faulty);
    JobController controller = cluster.coordinator().submit("faulty", null, java.util.Map.of());
    // Each failure is armed only after a checkpoint completed since the last one, so that
    // recoveries restore state from checkpoints, not only from the beginning.
    int injected = 0;
    int completedBefore = 0;
    while (injected < 12 && !controller.result().isDone()) {
      JobStatus now = controller.status().get(10, TimeUnit.SECONDS);
      if (now.checkpoints().size() <= completedBefore || now.state() != JobState.RUNNING) {
        Thread.sleep(20);
        continue;
      }
      completedBefore = now.checkpoints().size();
      int restartsBefore = now.restarts();
      if (injected % 4 == 3) {
        Worker victim = cluster.workers().stream().filter(Worker::alive)
            .skip(random.nextInt(2)).findFirst().orElseThrow();
        victim.kill();
        cluster.addWorker();
      } else {
        failAt = new long[] {PROCESSED.get() + 1 + random.nextInt(3_000)};
      }
      injected++;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (controller.status().get(10, TimeUnit.SECONDS).restarts() == restartsBefore
          && !controller.result().isDone() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
    }
    JobStatus status = controller.result().get(300, TimeUnit.SECONDS);
    assertEquals(JobState.FINISHED, status.state(), "seed " + seed + ": " + status);
    assertTrue(status.restarts() >= 10, "seed " + seed + ": only " + status.restarts()
        + " restarts of " + injected + " injected failures: " + status);
    List<String> actual = sorted(((TransactionalFileSink<?>) sinkOf(faulty)).readCommitted());
    assertEquals(expected.size(), actual.size(), "seed " + seed + ": output size");
    assertEquals(expected, actual, "seed " + seed + ": output differs");
  }

  private static Object sinkOf(JobDefinition job) {
    List<io.stratus.runtime.graph.Transformation> p = job.graph().pipeline();
    return ((io.stratus.runtime.graph.Transformation.SinkNode) p.get(p.size() - 1)).sink();
  }
}
