package io.stratus.scheduler;

import static io.stratus.scheduler.JobProgress.awaitCheckpoint;
import static io.stratus.scheduler.JobProgress.newestCheckpoint;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.api.StreamEnvironment;
import io.stratus.runtime.functions.Collector;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.functions.OutputTag;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.serde.Serde;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.sink.TransactionalFileSink;
import io.stratus.runtime.source.Payment;
import io.stratus.runtime.source.PaymentGenerator;
import io.stratus.runtime.source.SourceReader;
import io.stratus.runtime.source.SourceRecord;
import io.stratus.runtime.windowing.ProcessWindowFunction;
import io.stratus.runtime.windowing.TumblingWindows;
import io.stratus.store.lsm.StoreOptions;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Event-time windows in a running job: checkpointed, restored after a failure and rescaled
 * twice, they give exactly the windows computed straight from the input; a side output (large
 * payments) is committed exactly once with the same checkpoints as the main output.
 */
class WindowJobTest {

  private static final long EVENTS = 150_000;
  private static final long LARGE_CENTS = 19_500;
  private static final OutputTag<String> LARGE = new OutputTag<>("large");
  /** Payments seen by every copy of the flagging function; it throws once at {@link #FAIL_AT}. */
  private static final AtomicLong SEEN = new AtomicLong();
  private static final long FAIL_AT = 60_000;

  @TempDir
  Path dir;

  private EmbeddedCluster cluster;

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /** 5,000 payments per second of event time, at most 40 ms out of order. */
  private static PaymentGenerator source() {
    return new PaymentGenerator(5, 500, EVENTS, 5_000, 40, 0);
  }

  /** Passes payments on; large ones also go to the side output; fails once mid-run. */
  static final class FlagLarge extends KeyedProcessFunction<Long, Payment, Payment> {
    @Override
    public void processElement(Payment p, Context<Long> context, Collector<Payment> out) {
      if (SEEN.incrementAndGet() == FAIL_AT) {
        throw new IllegalStateException("injected failure at payment " + FAIL_AT);
      }
      if (p.amountCents() > LARGE_CENTS) {
        context.output(LARGE, "large," + p.id() + "," + p.amountCents());
      }
      out.collect(p);
    }
  }

  /** One line per user and second: {@code user,windowStart,count,sum}. */
  static final class PerSecond extends ProcessWindowFunction<Payment, String, Long> {
    @Override
    public void process(Long user, Context context, Iterable<Payment> payments,
        Collector<String> out) {
      long count = 0;
      long sum = 0;
      for (Payment p : payments) {
        count++;
        sum += p.amountCents();
      }
      out.collect(user + "," + context.window().start() + "," + count + "," + sum);
    }
  }

  @Test
  void windowsSurviveAFailureAndTwoRescalesAndTheSideOutputIsExactlyOnce() throws Exception {
    LocalDirectoryObjectStore objects = new LocalDirectoryObjectStore(dir.resolve("bucket"));
    cluster = new EmbeddedCluster(objects, 3, BlockCacheConfig.memoryOnly(8 << 20),
        Duration.ofMillis(100));
    RuntimeConfig runtime = RuntimeConfig.defaults().withParallelism(2).withMaxParallelism(64)
        .withStoreOptions(StoreOptions.small().withMaxParallelism(64))
        .withLocalStateDirectory(dir.resolve("local"));
    TransactionalFileSink<String> windows = new TransactionalFileSink<>(objects, "out/windows",
        line -> line);
    TransactionalFileSink<String> large = new TransactionalFileSink<>(objects, "out/large",
        line -> line);
    StreamEnvironment env = StreamEnvironment.plan(runtime);
    env.fromSource(source(), WatermarkStrategy.forBoundedOutOfOrderness(Duration.ofMillis(100)),
            "payments", 1)
        .filter(p -> {
          if (p.id() % 100 == 0) {
            LockSupport.parkNanos(100_000_000_000L / 40_000);
          }
          return true;
        })
        .keyBy(Payment::userId, Serdes.LONG)
        .process(new FlagLarge(), "flag")
        .sideOutputTo(LARGE, large)
        .keyBy(Payment::userId, Serdes.LONG)
        .window(TumblingWindows.ofEventTime(Duration.ofSeconds(1)))
        .process(new PerSecond(), Serdes.record(Payment.class), "per-second")
        .sinkTo(windows);
    cluster.catalog().register(new JobDefinition(env.graph("windows"), runtime,
        CheckpointConfig.defaults().withInterval(Duration.ofMillis(200)).withRetained(2),
        RestartStrategy.fixedDelay(3, Duration.ofMillis(100))));
    SEEN.set(0);
    JobController job = cluster.coordinator().submit("windows", null, Map.of());

    awaitCheckpoint(job, 0);
    job.rescale(Map.of("flag", 3, "per-second", 3)).get(60, TimeUnit.SECONDS);
    awaitCheckpoint(job, newestCheckpoint(job));
    job.rescale(Map.of("flag", 1, "per-second", 2)).get(60, TimeUnit.SECONDS);
    JobStatus end = job.result().get(180, TimeUnit.SECONDS);
    assertEquals(JobState.FINISHED, end.state(), String.valueOf(end));
    assertEquals(1, end.restarts(), "the injected failure restarts the job once: " + end);

    List<String> expectedWindows = new ArrayList<>();
    List<String> expectedLarge = new ArrayList<>();
    expected(expectedWindows, expectedLarge);
    assertEquals(expectedWindows, sorted(windows.readCommitted()));
    assertEquals(expectedLarge, sorted(large.readCommitted()));
    assertTrue(expectedLarge.size() > 100, "too few large payments to test: "
        + expectedLarge.size());
  }

  /** The windows and large payments computed straight from the stream, sorted. */
  private static void expected(List<String> windows, List<String> large) {
    SourceReader<Payment> reader = source().createReader(0, 1);
    Map<String, long[]> perSecond = new TreeMap<>();
    for (List<SourceRecord<Payment>> batch = reader.poll(1024); batch != null;
        batch = reader.poll(1024)) {
      for (SourceRecord<Payment> r : batch) {
        Payment p = r.value();
        long start = Math.floorDiv(p.timestamp(), 1000) * 1000;
        long[] t = perSecond.computeIfAbsent(p.userId() + "," + start, k -> new long[2]);
        t[0]++;
        t[1] += p.amountCents();
        if (p.amountCents() > LARGE_CENTS) {
          large.add("large," + p.id() + "," + p.amountCents());
        }
      }
    }
    perSecond.forEach((k, t) -> windows.add(k + "," + t[0] + "," + t[1]));
    windows.sort(null);
    large.sort(null);
  }

  private static List<String> sorted(List<String> lines) {
    List<String> out = new ArrayList<>(lines);
    out.sort(null);
    return out;
  }
}
