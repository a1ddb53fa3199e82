package io.stratus.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.network.DataPlaneConfig;
import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.api.DataStream;
import io.stratus.runtime.api.StreamEnvironment;
import io.stratus.runtime.functions.Collector;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.graph.Transformation;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.sink.TransactionalFileSink;
import io.stratus.runtime.source.Payment;
import io.stratus.runtime.source.PaymentGenerator;
import io.stratus.scheduler.lease.LeaseConfig;
import io.stratus.runtime.state.StateDescriptor;
import io.stratus.runtime.state.ValueState;
import io.stratus.store.lsm.StoreOptions;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.ObjectStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A job that is a graph, not a line: two sources unioned, a keyed stage whose output branches to
 * a sink and to a second keyed stage (keyed by another key) with a sink of its own. Run once
 * without failures, then with injected failures (exceptions and killed workers) and a rescale
 * of each keyed stage on its own: both sinks' committed output must be exactly the same.
 */
class DataflowJobTest {

  private static final long EVENTS_A = 60_000;
  private static final long EVENTS_B = 60_000;

  /** Records the first keyed stage processed, all copies and attempts; where failAt counts. */
  static final AtomicLong PROCESSED = new AtomicLong();
  /** Values of {@link #PROCESSED} at which the first keyed stage throws. */
  static volatile long[] failAt = new long[0];

  @TempDir
  Path dir;

  private EmbeddedCluster cluster;

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /** One count per key: emits {@code key:n} for the n-th record of the key. */
  static final class CountPerKey<T> extends KeyedProcessFunction<Long, T, String> {
    private final boolean injectFailures;
    private transient ValueState<Long> count;

    CountPerKey(boolean injectFailures) {
      this.injectFailures = injectFailures;
    }

    @Override
    public void open(OpenContext context) {
      count = context.state(new StateDescriptor.Value<>("count", Serdes.LONG));
    }

    @Override
    public void processElement(T value, Context<Long> context, Collector<String> out) {
      if (injectFailures) {
        long n = PROCESSED.incrementAndGet();
        for (long at : failAt) {
          if (at == n) {
            throw new IllegalStateException("injected failure at record " + n);
          }
        }
      }
      Long key = context.currentKey();
      count.value().thenAccept(old -> {
        long next = old == null ? 1 : old + 1;
        count.update(next);
        out.collect(key + ":" + next);
      });
    }
  }

  /**
   * The graph: sources {@code a} (2 splits) and {@code b} (1 split), paced, unioned; keyBy user
   * into {@code per-user}; its output to sink {@code users} and, keyed by a bucket of the line,
   * into {@code per-bucket}, then sink {@code buckets}. Each line's multiset is the same in any
   * order of arrival, so two runs compare exactly.
   */
  private JobDefinition job(String name, ObjectStore objects, long perSecond) {
    RuntimeConfig runtime = RuntimeConfig.defaults().withParallelism(2).withMaxParallelism(64)
        .withStoreOptions(StoreOptions.small().withMaxParallelism(64));
    StreamEnvironment env = StreamEnvironment.plan(runtime);
    DataStream<Payment> a = env.fromSource(new PaymentGenerator(1, 400, EVENTS_A / 2, 1000, 0,
        0), WatermarkStrategy.noWatermarks(), "payments-a", 2);
    DataStream<Payment> b = env.fromSource(new PaymentGenerator(2, 400, EVENTS_B, 1000, 0, 0),
        WatermarkStrategy.noWatermarks(), "payments-b", 1);
    DataStream<String> perUser = a.union(b)
        .filter(p -> {
          if (perSecond > 0 && p.id() % 100 == 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(100_000_000_000L / perSecond);
          }
          return true;
        })
        .keyBy(Payment::userId, Serdes.LONG)
        .process(new CountPerKey<>(true), "per-user");
    perUser.sinkTo(new TransactionalFileSink<>(objects, "out/" + name + "/users", l -> l),
        "users");
    perUser.keyBy(line -> (long) Math.floorMod(line.hashCode(), 13), Serdes.LONG)
        .process(new CountPerKey<String>(false), "per-bucket")
        .sinkTo(new TransactionalFileSink<>(objects, "out/" + name + "/buckets", l -> l),
            "buckets");
    return new JobDefinition(env.graph(name), runtime,
        CheckpointConfig.defaults().withInterval(Duration.ofMillis(150)).withRetained(2),
        RestartStrategy.fixedDelay(100, Duration.ofMillis(20)));
  }

  /**
   * Two independent branches: a short one (source {@code short}, 5k payments, keyed stage,
   * sink) and a long, paced one. The short branch ends first.
   */
  private JobDefinition twoBranches(String name, ObjectStore objects) {
    RuntimeConfig runtime = RuntimeConfig.defaults().withParallelism(2).withMaxParallelism(64)
        .withStoreOptions(StoreOptions.small().withMaxParallelism(64));
    StreamEnvironment env = StreamEnvironment.plan(runtime);
    env.fromSource(new PaymentGenerator(3, 100, 5_000, 1000, 0, 0),
            WatermarkStrategy.noWatermarks(), "short", 1)
        .keyBy(Payment::userId, Serdes.LONG)
        .process(new CountPerKey<>(false), "short-counts")
        .sinkTo(new TransactionalFileSink<>(objects, "out/" + name + "/short", l -> l), "short");
    env.fromSource(new PaymentGenerator(4, 100, 40_000, 1000, 0, 0),
            WatermarkStrategy.noWatermarks(), "long", 1)
        .filter(p -> {
          if (p.id() % 100 == 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(100_000_000_000L / 8_000);
          }
          return true;
        })
        .keyBy(Payment::userId, Serdes.LONG)
        .process(new CountPerKey<>(false), "long-counts")
        .sinkTo(new TransactionalFileSink<>(objects, "out/" + name + "/long", l -> l), "long");
    return new JobDefinition(env.graph(name), runtime,
        CheckpointConfig.defaults().withInterval(Duration.ofMillis(150)).withRetained(2),
        RestartStrategy.fixedDelay(10, Duration.ofMillis(20)));
  }

  @Test
  void checkpointsAndRescalesGoOnAfterOneBranchHasEnded() throws Exception {
    ObjectStore objects = new LocalDirectoryObjectStore(dir.resolve("bucket"));
    cluster = new EmbeddedCluster(objects, 2, BlockCacheConfig.memoryOnly(8 << 20),
        Duration.ofMillis(100));
    JobDefinition definition = twoBranches("branches", objects);
    cluster.catalog().register(definition);
    JobController job = cluster.coordinator().submit("branches", null, Map.of());
    // The short branch ends within a second; the long one runs for about 5 s.
    job.started().get(30, TimeUnit.SECONDS);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (job.status().get().tasks().stream().filter(t -> t.operator().startsWith("short"))
        .anyMatch(t -> !t.finished())
        || job.status().get().tasks().stream().noneMatch(t -> t.operator().startsWith("short"))) {
      assertTrue(System.nanoTime() < deadline, "the short branch did not end");
      Thread.sleep(20);
    }
    long before = job.status().get().completedCheckpoints();
    JobProgress.awaitCheckpoint(job, JobProgress.newestCheckpoint(job));
    assertTrue(job.status().get().completedCheckpoints() > before,
        "no checkpoint after a branch ended");
    RescaleReport r = job.rescale(Map.of("long-counts", 3)).get(60, TimeUnit.SECONDS);
    assertEquals(3, r.to().get("long-counts"));
    // A failure after the short branch ended restores it at its end: nothing twice.
    cluster.workers().get(0).kill();
    cluster.addWorker();
    JobStatus end = job.result().get(120, TimeUnit.SECONDS);
    assertEquals(JobState.FINISHED, end.state(), String.valueOf(end));
    assertTrue(end.restarts() >= 1, String.valueOf(end));
    List<String> shortOut = committed(definition, "short");
    assertEquals(5_000, shortOut.size());
    assertEquals(5_000, new java.util.HashSet<>(shortOut).size(), "short output twice");
    List<String> longOut = committed(definition, "long");
    assertEquals(40_000, longOut.size());
    assertEquals(40_000, new java.util.HashSet<>(longOut).size(), "long output twice");
  }

  @Test
  void aRescaleTheGraphCannotRunIsRefusedBeforeAnythingStops() throws Exception {
    ObjectStore objects = new LocalDirectoryObjectStore(dir.resolve("bucket"));
    cluster = new EmbeddedCluster(objects, 2, BlockCacheConfig.memoryOnly(8 << 20),
        Duration.ofMillis(100));
    RuntimeConfig runtime = RuntimeConfig.defaults().withParallelism(2).withMaxParallelism(64)
        .withStoreOptions(StoreOptions.small().withMaxParallelism(64));
    StreamEnvironment env = StreamEnvironment.plan(runtime);
    env.fromSource(new PaymentGenerator(5, 100, Long.MAX_VALUE, 1000, 0, 0),
            WatermarkStrategy.noWatermarks(), "payments", 1)
        .filter(p -> {
          java.util.concurrent.locks.LockSupport.parkNanos(50_000);
          return true;
        })
        .keyBy(Payment::userId, Serdes.LONG)
        .process(new CountPerKey<>(false), "counts")
        .forward()
        .map(String::length).returns(Serdes.of(Integer.class)).setParallelism(2)
        .sinkTo(new io.stratus.runtime.sink.DiscardingSink<>());
    cluster.catalog().register(new JobDefinition(env.graph("forwarded"), runtime,
        CheckpointConfig.defaults().withInterval(Duration.ofMillis(200)),
        RestartStrategy.none()));
    JobController job = cluster.coordinator().submit("forwarded", null, Map.of());
    job.started().get(30, TimeUnit.SECONDS);
    int attempt = job.status().get().attempt();
    java.util.concurrent.ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
        java.util.concurrent.ExecutionException.class,
        () -> job.rescale(Map.of("counts", 4)).get(30, TimeUnit.SECONDS));
    assertTrue(e.getCause() instanceof IllegalArgumentException
        && e.getCause().getMessage().contains("forward from 'counts' needs equal parallelism"),
        String.valueOf(e.getCause()));
    JobStatus s = job.status().get();
    assertEquals(JobState.RUNNING, s.state());
    assertEquals(attempt, s.attempt(), "a refused rescale deployed something");
    job.cancel().get(30, TimeUnit.SECONDS);
  }

  private static List<String> committed(JobDefinition job, String sink) {
    for (Transformation t : job.graph().nodes()) {
      if (t instanceof Transformation.SinkNode s && s.name().equals(sink)) {
        List<String> out = new ArrayList<>(((TransactionalFileSink<?>) s.sink())
            .readCommitted());
        out.sort(null);
        return out;
      }
    }
    throw new AssertionError("no sink " + sink);
  }

  /**
   * With {@code network}, each worker has its own data server and every record between workers
   * crosses loopback TCP; some of the injected failures are then dropped connections, which
   * must fail the job at once with an error naming the peer.
   */
  @ParameterizedTest(name = "network={0}")
  @ValueSource(booleans = {false, true})
  void failuresAndRescalesOfEachKeyedStageLeaveEverySinkExact(boolean network) throws Exception {
    ObjectStore objects = new LocalDirectoryObjectStore(dir.resolve("bucket"));
    cluster = new EmbeddedCluster(objects, 3, BlockCacheConfig.memoryOnly(8 << 20),
        Duration.ofMillis(100), LeaseConfig.defaults(), "test",
        // 4 KiB buffers: the paced filter makes the whole job run backpressured at 8k records/s,
        // and an aligned barrier waits behind every buffer in flight (32 KiB ones would hold
        // seconds of this job's input ahead of each barrier).
        network ? DataPlaneConfig.defaults().withBuffers(4096, Duration.ofMillis(10), 4)
            : null);
    JobDefinition clean = job("clean", objects, 0);
    cluster.catalog().register(clean);
    JobStatus cleanEnd = cluster.coordinator().submit("clean", null, Map.of()).result()
        .get(120, TimeUnit.SECONDS);
    assertEquals(JobState.FINISHED, cleanEnd.state(), String.valueOf(cleanEnd));
    List<String> users = committed(clean, "users");
    List<String> buckets = committed(clean, "buckets");
    assertEquals(EVENTS_A + EVENTS_B, users.size());
    assertEquals(EVENTS_A + EVENTS_B, buckets.size());

    long seed = System.nanoTime();
    Random random = new Random(seed);
    PROCESSED.set(0);
    // 120k payments at 8k/s: 15 s of input, with replays more; enough for 11 failures (two
    // of them lost workers, found after a 1-2 s heartbeat timeout) and two rescales.
    JobDefinition faulty = job("faulty", objects, 8_000);
    cluster.catalog().register(faulty);
    JobController job = cluster.coordinator().submit("faulty", null, Map.of());
    int injected = 0;
    int rescaled = 0;
    int disconnects = 0;
    long completedBefore = 0;
    while (injected < 11 && !job.result().isDone()) {
      JobStatus now = job.status().get(10, TimeUnit.SECONDS);
      long newest = now.checkpoints().isEmpty() ? 0
          : now.checkpoints().get(now.checkpoints().size() - 1).id();
      if (newest <= completedBefore || now.state() != JobState.RUNNING) {
        Thread.sleep(20);
        continue;
      }
      completedBefore = newest;
      if (injected == 3 && rescaled == 0 || injected == 7 && rescaled == 1) {
        // Each keyed stage on its own: per-user 2 -> 3, then per-bucket 2 -> 1.
        Map<String, Integer> target = rescaled == 0 ? Map.of("per-user", 3)
            : Map.of("per-bucket", 1);
        try {
          RescaleReport r = job.rescale(target).get(60, TimeUnit.SECONDS);
          assertEquals(target.values().iterator().next(),
              r.to().get(target.keySet().iterator().next()));
          rescaled++;
        } catch (java.util.concurrent.ExecutionException e) {
          // A failure may be restarting the job: try again after the next checkpoint.
          assertTrue(e.getCause() instanceof RescaleConflictException, String.valueOf(e));
        }
        continue;
      }
      int restartsBefore = now.restarts();
      boolean disconnect = network && injected % 4 == 1;
      if (disconnect) {
        Worker from = cluster.workers().stream().filter(Worker::alive)
            .skip(random.nextInt(2)).findFirst().orElseThrow();
        String peer = cluster.workers().stream().filter(w -> w.alive() && w != from)
            .findFirst().orElseThrow().id();
        if (from.channels().dataPlane().disconnect(peer, "dropped by the test") == 0) {
          // No records from that worker to that peer in this placement: fail otherwise.
          failAt = new long[] {PROCESSED.get() + 1 + random.nextInt(2_000)};
          disconnect = false;
        }
      } else if (injected % 4 == 3) {
        Worker victim = cluster.workers().stream().filter(Worker::alive)
            .skip(random.nextInt(2)).findFirst().orElseThrow();
        victim.kill();
        cluster.addWorker();
      } else {
        failAt = new long[] {PROCESSED.get() + 1 + random.nextInt(2_000)};
      }
      injected++;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (job.status().get(10, TimeUnit.SECONDS).restarts() == restartsBefore
          && !job.result().isDone() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      if (disconnect) {
        String failure = job.status().get(10, TimeUnit.SECONDS).lastFailure();
        assertTrue(failure != null && failure.contains("data connection")
            && failure.contains("worker-"), "seed " + seed + ": " + failure);
        disconnects++;
      }
    }
    if (network) {
      assertTrue(disconnects >= 1, "seed " + seed + ": no connection was dropped");
    }
    JobStatus end = job.result().get(300, TimeUnit.SECONDS);
    assertEquals(JobState.FINISHED, end.state(), "seed " + seed + ": " + end);
    assertTrue(end.restarts() >= 10, "seed " + seed + ": only " + end.restarts()
        + " restarts of " + injected + " injected failures: " + end);
    assertEquals(2, rescaled, "seed " + seed + ": rescales done");
    assertEquals(Map.of("per-user", 3, "per-bucket", 1), end.parallelism());
    assertEquals(users, committed(faulty, "users"), "seed " + seed + ": sink users");
    assertEquals(buckets, committed(faulty, "buckets"), "seed " + seed + ": sink buckets");
  }
}
