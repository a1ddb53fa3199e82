package io.stratus.runtime.execution;

import static io.stratus.runtime.execution.TaskThread.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.cache.HybridBlockCache;
import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.api.StreamEnvironment;
import io.stratus.runtime.execution.PerKeyOrderTest.Step;
import io.stratus.runtime.functions.Collector;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.sink.CollectingSink;
import io.stratus.runtime.source.CollectionSource;
import io.stratus.runtime.state.RecordContext;
import io.stratus.runtime.state.StateDescriptor;
import io.stratus.runtime.state.StateFuture;
import io.stratus.runtime.state.ValueState;
import io.stratus.store.lsm.StoreOptions;
import io.stratus.store.lsm.StoreResources;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.NetworkModel;
import io.stratus.store.objectstore.SimulatedNetworkObjectStore;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The in-flight limit of a keyed task: records started or waiting for their key. */
class InFlightLimitTest {

  private static final int LIMIT = 16;

  @TempDir
  Path dir;

  // ------------------------------------------------------------------------------- in a job

  /** Reads and updates a count per key; optionally also sets a timer that reads it again. */
  static final class CountWithTimer extends KeyedProcessFunction<Long, Step, String> {
    private final boolean timers;
    private transient ValueState<Integer> count;

    CountWithTimer(boolean timers) {
      this.timers = timers;
    }

    @Override
    public void open(OpenContext context) {
      count = context.state(new StateDescriptor.Value<>("count", Serdes.INT));
    }

    @Override
    public void processElement(Step step, Context<Long> context, Collector<String> out) {
      if (timers) {
        // Every key's timer is due at the same watermark (the end of input): a burst.
        context.timerService().registerEventTimeTimer(1_000);
      }
      count.value().thenAccept(n -> count.update(n == null ? 1 : n + 1));
    }

    @Override
    public void onTimer(long timestamp, Context<Long> context, Collector<String> out) {
      count.value().thenAccept(n -> out.collect(context.currentKey() + "=" + n));
    }
  }

  private JobResult runSlowJob(int keys, int steps, boolean timers, CollectingSink<String> sink,
      long seed) {
    RuntimeConfig config = RuntimeConfig.defaults().withParallelism(2).withMaxInFlight(LIMIT)
        // Written blocks stay out of the cache, so that reads miss it and wait.
        .withStoreOptions(StoreOptions.small().withCacheWrittenBlocks(false));
    LocalDirectoryObjectStore local = new LocalDirectoryObjectStore(dir.resolve("objects"));
    // 1-3 ms per request: a read that misses the small cache keeps its record in flight long
    // enough for the input to fill the limit.
    SimulatedNetworkObjectStore network = new SimulatedNetworkObjectStore(local,
        new NetworkModel(Duration.ofMillis(1), 0, Duration.ofMillis(2)));
    HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(1 << 20));
    StoreResources store = StoreResources.create(network, cache);
    Vertx vertx = Vertx.vertx();
    try {
      StreamEnvironment env = StreamEnvironment.create(config, new RuntimeResources(vertx,
          store));
      env.fromSource(new CollectionSource<>(PerKeyOrderTest.interleaved(keys, steps, seed)),
              WatermarkStrategy.noWatermarks(), "steps")
          .keyBy(Step::key, Serdes.LONG)
          .process(new CountWithTimer(timers), "count")
          .sinkTo(sink);
      return env.execute("in-flight").join();
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().join();
      store.close();
      cache.close();
      network.close();
      local.close();
    }
  }

  @Test
  void slowStateFillsButNeverExceedsTheLimit() {
    long seed = System.nanoTime();
    int keys = 2000;
    int steps = 4;
    JobResult result = runSlowJob(keys, steps, false, new CollectingSink<>(), seed);
    String context = "seed " + seed + ", " + result;
    assertEquals((long) keys * steps, PerKeyOrderTest.keyedRecords(result), context);
    assertEquals(2, result.maxInFlight().size(), context);
    for (int observed : result.maxInFlight().values()) {
      assertTrue(observed <= LIMIT, "limit " + LIMIT + " exceeded: " + context);
    }
    assertTrue(result.maxInFlight().values().contains(LIMIT), "limit never reached: " + context);
  }

  /** Timers fire through the controller like records, so the limit holds for them too. */
  @Test
  void aBurstOfDueTimersStaysWithinTheLimit() {
    long seed = System.nanoTime();
    int keys = 2000;
    CollectingSink<String> sink = new CollectingSink<>();
    JobResult result = runSlowJob(keys, 2, true, sink, seed);
    String context = "seed " + seed + ", " + result;
    List<String> fired = sink.records();
    assertEquals(keys, fired.size(), context);
    assertTrue(fired.stream().allMatch(s -> s.endsWith("=2")), "a timer ran before its key's "
        + "records completed: " + fired.subList(0, 10));
    for (int observed : result.maxInFlight().values()) {
      assertTrue(observed <= LIMIT, "limit " + LIMIT + " exceeded: " + context);
    }
  }

  // ---------------------------------------------------------------------- controller alone

  private static RecordContext record(Object value, long key, Runnable body) {
    return new RecordContext(value, key, Serdes.LONG.toBytes(key), 0, Long.MIN_VALUE, body);
  }

  /**
   * Records of one key wait for each other and count toward the limit while they wait:
   * step by step with futures the test completes by hand.
   */
  @Test
  void recordsWaitingForTheirKeyCountTowardTheLimit() {
    try (TaskThread task = new TaskThread()) {
      List<String> log = new ArrayList<>();
      AsyncExecutionController controller = new AsyncExecutionController(task, task::isCurrent,
          4, (ctx, e) -> log.add("failed at " + ctx + ": " + e));
      List<CompletableFuture<String>> reads = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        reads.add(new CompletableFuture<>());
      }
      task.call(() -> {
        for (int i = 0; i < 4; i++) {
          int n = i;
          controller.submit(record("r" + n, 7, () -> {
            log.add("start " + n);
            StateFuture.of(reads.get(n), controller).thenAccept(v -> log.add("end " + n));
          }));
        }
        return null;
      });
      CompletableFuture<Void> capacity = task.call(controller::whenCapacity);
      CompletableFuture<Void> drained = task.call(controller::whenDrained);
      assertEquals(List.of("start 0"), task.call(() -> List.copyOf(log)));
      assertEquals(4, task.call(controller::inFlight));
      assertFalse(task.call(controller::hasCapacity));
      assertFalse(capacity.isDone() || drained.isDone());

      // Complete out of order: record 1 must still wait for record 0.
      reads.get(1).complete("b");
      assertEquals(List.of("start 0"), task.call(() -> List.copyOf(log)));
      reads.get(0).complete("a");
      await(capacity);
      assertEquals(List.of("start 0", "end 0", "start 1", "end 1", "start 2"),
          task.call(() -> List.copyOf(log)));
      assertEquals(2, task.call(controller::inFlight));
      assertTrue(task.call(controller::hasCapacity));
      assertFalse(drained.isDone());

      reads.get(3).complete("d");
      reads.get(2).complete("c");
      await(drained);
      assertEquals(List.of("start 0", "end 0", "start 1", "end 1", "start 2", "end 2",
          "start 3", "end 3"), task.call(() -> List.copyOf(log)));
      assertEquals(0, task.call(controller::inFlight));
      assertEquals(4, task.call(controller::maxObservedInFlight));
      assertTrue(task.call(controller::whenDrained).isDone(), "drained now: completes at once");
    }
  }

  /**
   * Many records of few keys whose bodies chain futures completed later at random: same-key
   * bodies never overlap, keys run in submission order, the input is held back exactly by
   * {@code whenCapacity} and the limit is reached but never passed.
   */
  @Test
  void manyRecordsOfFewKeysWithRandomCompletions() {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    int total = 3000;
    int keys = 5;
    int limit = 8;
    ScheduledExecutorService timer = Executors.newScheduledThreadPool(2);
    List<String> problems = new ArrayList<>();
    int[] running = new int[keys];
    int[] nextSeq = new int[keys];
    int[] submittedSeq = new int[keys];
    AtomicInteger completed = new AtomicInteger();
    int[] maxSeen = {0};
    CompletableFuture<Void> allSubmitted = new CompletableFuture<>();
    try (TaskThread task = new TaskThread()) {
      AsyncExecutionController controller = new AsyncExecutionController(task, task::isCurrent,
          limit, (ctx, e) -> problems.add("failure at " + ctx + ": " + e));
      long[] delays = new long[total * 2];
      for (int i = 0; i < delays.length; i++) {
        delays[i] = random.nextInt(300);
      }
      int[] keyOf = new int[total];
      for (int i = 0; i < total; i++) {
        keyOf[i] = random.nextInt(keys);
      }

      Runnable[] feed = new Runnable[1];
      int[] position = {0};
      feed[0] = () -> {
        while (position[0] < total) {
          if (!controller.hasCapacity()) {
            CompletableFuture<Void> capacity = controller.whenCapacity();
            if (capacity.isDone()) {
              problems.add("whenCapacity done while hasCapacity is false");
            }
            capacity.thenRun(() -> task.execute(() -> {
              if (!controller.hasCapacity()) {
                problems.add("whenCapacity completed without capacity");
              }
              feed[0].run();
            }));
            return;
          }
          int i = position[0]++;
          int key = keyOf[i];
          int seq = submittedSeq[key]++;
          controller.submit(record(i, key, () -> {
            if (running[key]++ != 0) {
              problems.add("key " + key + " body " + seq + " overlaps another");
            }
            if (nextSeq[key]++ != seq) {
              problems.add("key " + key + " ran " + seq + " out of order");
            }
            StateFuture.of(later(timer, delays[2 * i]), controller)
                .thenCompose(v -> StateFuture.of(later(timer, delays[2 * i + 1]), controller))
                .thenAccept(v -> {
                  running[key]--;
                  completed.incrementAndGet();
                });
          }));
          maxSeen[0] = Math.max(maxSeen[0], controller.inFlight());
        }
        allSubmitted.complete(null);
      };
      task.execute(feed[0]);
      await(allSubmitted);
      await(task.call(controller::whenDrained));

      String context = "seed " + seed;
      assertEquals(List.of(), task.call(() -> List.copyOf(problems.subList(0,
          Math.min(10, problems.size())))), context);
      assertEquals(total, completed.get(), context);
      assertEquals(limit, maxSeen[0], context);
      assertEquals(limit, task.call(controller::maxObservedInFlight), context);
      assertEquals(0, task.call(controller::inFlight), context);
    } finally {
      timer.shutdownNow();
    }
  }

  private static CompletableFuture<Void> later(ScheduledExecutorService timer, long micros) {
    CompletableFuture<Void> f = new CompletableFuture<>();
    timer.schedule(() -> f.complete(null), micros, TimeUnit.MICROSECONDS);
    return f;
  }

  @Test
  void aLimitBelowOneIsRejected() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new AsyncExecutionController(Runnable::run, () -> true, 0, (c, t) -> { }));
    assertTrue(e.getMessage().contains("0"), e.getMessage());
  }

  /** The first failure is reported once, with its record; later records of the key wait. */
  @Test
  void aFailingContinuationFailsOnceWithItsRecord() {
    try (TaskThread task = new TaskThread()) {
      List<String> failures = new ArrayList<>();
      AsyncExecutionController controller = new AsyncExecutionController(task, task::isCurrent,
          10, (ctx, e) -> failures.add(ctx + ": " + e.getMessage()));
      CompletableFuture<String> read = new CompletableFuture<>();
      List<String> started = new ArrayList<>();
      task.call(() -> {
        controller.submit(record("bad", 1, () -> StateFuture.of(read, controller)
            .thenAccept(v -> {
              throw new IllegalStateException("boom on " + v);
            })));
        controller.submit(record("next", 1, () -> started.add("next")));
        return null;
      });
      // Completed off the task thread: the continuation hops to it, and fails there.
      read.complete("x");
      task.call(() -> {
        controller.submit(record("other", 2, () -> {
          throw new IllegalStateException("second failure");
        }));
        return null;
      });
      assertNull(task.call(controller::currentContext), "no context outside a record");
      assertTrue(task.call(controller::failed));
      assertEquals(List.of("bad: boom on x"), task.call(() -> List.copyOf(failures)),
          "only the first failure is reported");
      assertEquals(List.of(), task.call(() -> List.copyOf(started)),
          "after a failure, waiting records of the key do not start");
    }
  }
}
