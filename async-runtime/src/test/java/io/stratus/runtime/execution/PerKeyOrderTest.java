package io.stratus.runtime.execution;

import static io.stratus.runtime.execution.TaskThread.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.cache.HybridBlockCache;
import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.api.StreamEnvironment;
import io.stratus.runtime.functions.Collector;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.sink.CollectingSink;
import io.stratus.runtime.source.CollectionSource;
import io.stratus.runtime.state.HeapBackend;
import io.stratus.runtime.state.KeyedStateStore;
import io.stratus.runtime.state.RecordContext;
import io.stratus.runtime.state.StateDescriptor;
import io.stratus.runtime.state.ValueState;
import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.keygroup.KeyGroups;
import io.stratus.store.lsm.StoreOptions;
import io.stratus.store.lsm.StoreResources;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.NetworkModel;
import io.stratus.store.objectstore.SimulatedNetworkObjectStore;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Records of one key are processed strictly in arrival order even though state reads complete
 * in random order and records of different keys overlap: each key receives a numbered sequence
 * and the keyed function checks, in state, that every number follows the one before.
 */
class PerKeyOrderTest {

  @TempDir
  Path dir;

  /** One numbered record of a key. */
  record Step(long key, int seq) {}

  /**
   * {@code steps} records for each of {@code keys} keys, keys interleaved at random (seeded) but
   * each key's records in order.
   */
  static List<Step> interleaved(int keys, int steps, long seed) {
    Random random = new Random(seed);
    int[] next = new int[keys];
    List<Integer> open = new ArrayList<>();
    for (int k = 0; k < keys; k++) {
      open.add(k);
    }
    List<Step> out = new ArrayList<>(keys * steps);
    while (!open.isEmpty()) {
      int i = random.nextInt(open.size());
      int key = open.get(i);
      out.add(new Step(key, ++next[key]));
      if (next[key] == steps) {
        open.set(i, open.get(open.size() - 1));
        open.remove(open.size() - 1);
      }
    }
    return out;
  }

  /** Reads the key's last number, reports a gap, stores the new number, reports completion. */
  static final class SequenceCheck extends KeyedProcessFunction<Long, Step, String> {
    private final int steps;
    private transient ValueState<Integer> last;

    SequenceCheck(int steps) {
      this.steps = steps;
    }

    @Override
    public void open(OpenContext context) {
      last = context.state(new StateDescriptor.Value<>("last-seq", Serdes.INT));
    }

    @Override
    public void processElement(Step step, Context<Long> context, Collector<String> out) {
      last.value().thenAccept(previous -> {
        int expected = (previous == null ? 0 : previous) + 1;
        if (step.seq() != expected) {
          out.collect("violation: key " + step.key() + " got " + step.seq() + " after "
              + previous);
        }
        last.update(step.seq());
        if (step.seq() == steps) {
          out.collect("done");
        }
      });
    }
  }

  /**
   * A whole job over the disaggregated store whose object store adds 0-5 ms of random latency
   * per request, with a 1 MiB cache and 1 KiB blocks: the memtable flushes every few hundred
   * records, and the state (12,000 keys) outgrows the cache, so many reads of a key's last
   * number go through the delayed store. (With 3,000 keys the state fit the cache that flushes
   * fill: on a fast run no read missed before compactions rewrote files, and none overlapped.)
   */
  @Test
  void jobKeepsPerKeyOrderOverADelayedObjectStore() {
    long seed = System.nanoTime();
    int keys = 12_000;
    int steps = 8;
    List<Step> input = interleaved(keys, steps, seed);
    CollectingSink<String> sink = new CollectingSink<>();
    RuntimeConfig config = RuntimeConfig.defaults().withParallelism(2)
        .withStoreOptions(StoreOptions.small()).withMaxInFlight(500);

    LocalDirectoryObjectStore local = new LocalDirectoryObjectStore(dir.resolve("objects"));
    SimulatedNetworkObjectStore network = new SimulatedNetworkObjectStore(local,
        new NetworkModel(Duration.ZERO, 0, Duration.ofMillis(5)));
    HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(1 << 20));
    StoreResources store = StoreResources.create(network, cache);
    Vertx vertx = Vertx.vertx();
    JobResult result;
    try {
      StreamEnvironment env = StreamEnvironment.create(config, new RuntimeResources(vertx,
          store));
      env.fromSource(new CollectionSource<>(input), WatermarkStrategy.noWatermarks(), "steps")
          .keyBy(Step::key, Serdes.LONG)
          .process(new SequenceCheck(steps), "check")
          .sinkTo(sink);
      result = env.execute("per-key-order").join();
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().join();
      store.close();
      cache.close();
      network.close();
      local.close();
    }

    String context = "seed " + seed + ", " + result;
    List<String> out = sink.records();
    List<String> violations = out.stream().filter(s -> s.startsWith("violation")).toList();
    assertEquals(List.of(), violations.subList(0, Math.min(10, violations.size())), context);
    assertEquals(keys, out.stream().filter("done"::equals).count(), context);
    assertEquals((long) keys * steps, keyedRecords(result), context);
    assertTrue(result.maxInFlight().values().stream().anyMatch(n -> n > 1),
        "records of different keys never overlapped: " + context);
    assertTrue(cache.metrics().misses() > 0 && network.bytesRead() > 0,
        "no read went to the delayed store: " + context);
  }

  static long keyedRecords(JobResult result) {
    return result.recordsIn().entrySet().stream().filter(e -> !e.getKey().startsWith("steps"))
        .mapToLong(Map.Entry::getValue).sum();
  }

  /**
   * The same check without a job, faster and harsher: a heap backend whose reads complete after
   * 0-2 ms at random (a read returns what was stored when it was issued), a real controller on
   * a task thread, and two chained reads per record. Also watches that no two records of a key
   * are ever running at once.
   */
  @Test
  void controllerKeepsPerKeyOrderWhenReadsCompleteInRandomOrder() {
    long seed = System.nanoTime();
    int keys = 200;
    int steps = 25;
    int maxParallelism = 128;
    List<Step> input = interleaved(keys, steps, seed);
    ScheduledExecutorService timer = Executors.newScheduledThreadPool(2);
    List<String> problems = new ArrayList<>();
    AtomicInteger completed = new AtomicInteger();
    CompletableFuture<Void> allSubmitted = new CompletableFuture<>();
    try (TaskThread task = new TaskThread()) {
      DelayingBackend backend = new DelayingBackend(new HeapBackend(null, "heap",
          KeyGroupRange.all(maxParallelism), maxParallelism), timer, seed, 2000);
      AsyncExecutionController controller = new AsyncExecutionController(task,
          task::isCurrent, 64, (ctx, e) -> problems.add("failure at " + ctx + ": " + e));
      KeyedStateStore states = new KeyedStateStore(backend, controller,
          System::currentTimeMillis);
      ValueState<Integer> last = states.state(new StateDescriptor.Value<>("last", Serdes.INT));
      ValueState<Integer> count = states.state(new StateDescriptor.Value<>("count",
          Serdes.INT));
      Set<Long> running = new HashSet<>();

      Runnable[] feed = new Runnable[1];
      int[] position = {0};
      feed[0] = () -> {
        while (position[0] < input.size()) {
          if (!controller.hasCapacity()) {
            controller.whenCapacity().thenRun(() -> task.execute(feed[0]));
            return;
          }
          Step step = input.get(position[0]++);
          byte[] keyBytes = Serdes.LONG.toBytes(step.key());
          controller.submit(new RecordContext(step, step.key(), keyBytes,
              KeyGroups.keyGroupOf(keyBytes, maxParallelism), Long.MIN_VALUE, () -> {
                if (!running.add(step.key())) {
                  problems.add("two records of key " + step.key() + " overlap at " + step);
                }
                last.value().thenCompose(previous -> count.value().thenApply(n -> {
                  int expected = (previous == null ? 0 : previous) + 1;
                  if (step.seq() != expected || (n == null ? 0 : n) != expected - 1) {
                    problems.add(step + " after last=" + previous + ", count=" + n);
                  }
                  last.update(step.seq());
                  count.update(expected);
                  return n;
                })).thenAccept(n -> {
                  running.remove(step.key());
                  completed.incrementAndGet();
                });
              }));
        }
        allSubmitted.complete(null);
      };
      task.execute(feed[0]);
      await(allSubmitted);
      await(task.call(controller::whenDrained));

      String context = "seed " + seed;
      // problems is only touched on the task thread, which has drained by now.
      assertEquals(List.of(), problems.subList(0, Math.min(10, problems.size())), context);
      assertEquals(input.size(), completed.get(), context);
      assertEquals(2 * input.size(), backend.reads.get(), context);
      int max = task.call(controller::maxObservedInFlight);
      assertTrue(max > 1 && max <= 64, "max in flight " + max + ", " + context);
      for (int k = 0; k < keys; k++) {
        byte[] keyBytes = Serdes.LONG.toBytes((long) k);
        RecordContext probe = new RecordContext("probe", (long) k, keyBytes,
            KeyGroups.keyGroupOf(keyBytes, maxParallelism), Long.MIN_VALUE, () -> { });
        CompletableFuture<Integer> value = new CompletableFuture<>();
        task.execute(() -> controller.runWith(probe,
            () -> last.value().thenAccept(value::complete)));
        assertEquals(steps, await(value), "key " + k + ", " + context);
      }
    } finally {
      timer.shutdownNow();
    }
  }
}
