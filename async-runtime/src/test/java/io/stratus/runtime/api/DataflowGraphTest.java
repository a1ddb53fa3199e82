package io.stratus.runtime.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.functions.Collector;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.functions.ProcessFunction;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.sink.CollectingSink;
import io.stratus.runtime.source.SequenceSource;
import io.stratus.runtime.state.StateDescriptor;
import io.stratus.runtime.state.ValueState;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Jobs that are graphs, run locally: branches, unions, every partitioning, several keyed
 * stages, function copies per task, and records that cross tasks as bytes.
 */
class DataflowGraphTest {

  @TempDir
  Path dir;

  private StreamEnvironment env(int parallelism) {
    return StreamEnvironment.local(RuntimeConfig.defaults().withParallelism(parallelism)
        .withBackend("heap").withLocalStateDirectory(dir.resolve("rocksdb")));
  }

  private static List<Long> range(long from, long to) {
    return LongStream.rangeClosed(from, to).boxed().toList();
  }

  private static <T extends Comparable<T>> List<T> sorted(List<T> in) {
    List<T> out = new ArrayList<>(in);
    Collections.sort(out);
    return out;
  }

  @Test
  void aStreamFeedingTwoOperatorsGivesEachEveryRecord() {
    CollectingSink<Long> doubled = new CollectingSink<>();
    CollectingSink<Long> odd = new CollectingSink<>();
    try (StreamEnvironment env = env(2)) {
      DataStream<Long> numbers = env.fromSource(new SequenceSource(1, 1000),
          WatermarkStrategy.noWatermarks(), "numbers", 2);
      numbers.map(n -> n * 2).returns(Serdes.LONG).sinkTo(doubled, "doubled");
      numbers.filter(n -> n % 2 == 1).sinkTo(odd, "odd");
      env.execute("branch").join();
    }
    assertEquals(range(1, 1000).stream().map(n -> n * 2).toList(), sorted(doubled.records()));
    assertEquals(range(1, 1000).stream().filter(n -> n % 2 == 1).toList(),
        sorted(odd.records()));
  }

  @Test
  void twoSourcesUnionedFeedOneKeyedStageThenAnotherKeyedByAnotherKey() {
    CollectingSink<String> out = new CollectingSink<>();
    try (StreamEnvironment env = env(3)) {
      DataStream<Long> a = env.fromSource(new SequenceSource(1, 500),
          WatermarkStrategy.noWatermarks(), "a", 2);
      DataStream<Long> b = env.fromSource(new SequenceSource(501, 1000),
          WatermarkStrategy.noWatermarks(), "b", 1);
      a.union(b)
          .keyBy(n -> n % 10, Serdes.LONG)
          .process(new Count<>(), "per-digit")
          .keyBy(line -> (long) line.length(), Serdes.LONG)
          .process(new Count<>(), "per-length")
          .sinkTo(out);
      env.execute("union").join();
    }
    // per-digit emits "d:n" for n = 1..100 per digit; per-length counts those by length.
    Map<Long, Long> byLength = new HashMap<>();
    for (long d = 0; d < 10; d++) {
      for (long n = 1; n <= 100; n++) {
        byLength.merge((long) (d + ":" + n).length(), 1L, Long::sum);
      }
    }
    Set<String> expected = new HashSet<>();
    byLength.forEach((len, count) -> {
      for (long n = 1; n <= count; n++) {
        expected.add(len + ":" + n);
      }
    });
    assertEquals(1000, out.records().size());
    assertEquals(expected, new HashSet<>(out.records()));
  }

  /** Emits {@code key:n} for the key's n-th record. */
  static final class Count<T> extends KeyedProcessFunction<Long, T, String> {
    private transient ValueState<Long> count;

    @Override
    public void open(OpenContext context) {
      count = context.state(new StateDescriptor.Value<>("count", Serdes.LONG));
    }

    @Override
    public void processElement(T value, Context<Long> context, Collector<String> out) {
      Long key = context.currentKey();
      count.value().thenAccept(c -> {
        long next = c == null ? 1 : c + 1;
        count.update(next);
        out.collect(key + ":" + next);
      });
    }
  }

  /** Tags each record with the index of the task that saw it. */
  static final class Tag extends ProcessFunction<Long, long[]> {
    private transient int subtask;

    @Override
    public void open(OpenContext context) {
      subtask = context.subtaskIndex();
    }

    @Override
    public void processElement(Long value, Context context, Collector<long[]> out) {
      out.collect(new long[] {value, subtask});
    }
  }

  private Map<Long, List<Long>> tasksPerRecord(java.util.function.Function<DataStream<Long>,
      DataStream<Long>> partition, int sourceParallelism, int parallelism) {
    CollectingSink<long[]> out = new CollectingSink<>();
    try (StreamEnvironment env = env(2)) {
      DataStream<Long> numbers = env.fromSource(new SequenceSource(1, 400),
          WatermarkStrategy.noWatermarks(), "numbers", sourceParallelism);
      partition.apply(numbers).process(new Tag()).setParallelism(parallelism).sinkTo(out);
      env.execute("partitioned").join();
    }
    Map<Long, List<Long>> seen = new HashMap<>();
    for (long[] r : out.records()) {
      seen.computeIfAbsent(r[0], k -> new ArrayList<>()).add(r[1]);
    }
    return seen;
  }

  @Test
  void rebalanceSpreadsRecordsEvenlyOverTheTasks() {
    Map<Long, List<Long>> seen = tasksPerRecord(DataStream::rebalance, 1, 4);
    assertEquals(400, seen.size());
    Map<Long, Long> perTask = seen.values().stream().map(l -> l.get(0))
        .collect(Collectors.groupingBy(t -> t, Collectors.counting()));
    assertEquals(Map.of(0L, 100L, 1L, 100L, 2L, 100L, 3L, 100L), perTask);
  }

  @Test
  void shuffleSendsEachRecordToOneTaskAndReachesEveryTask() {
    Map<Long, List<Long>> seen = tasksPerRecord(DataStream::shuffle, 1, 3);
    assertEquals(400, seen.size());
    assertTrue(seen.values().stream().allMatch(l -> l.size() == 1));
    assertEquals(Set.of(0L, 1L, 2L), seen.values().stream().map(l -> l.get(0))
        .collect(Collectors.toSet()));
  }

  @Test
  void broadcastGivesEveryTaskEveryRecord() {
    Map<Long, List<Long>> seen = tasksPerRecord(DataStream::broadcast, 1, 3);
    assertEquals(400, seen.size());
    for (List<Long> tasks : seen.values()) {
      assertEquals(List.of(0L, 1L, 2L), sorted(tasks));
    }
  }

  @Test
  void forwardKeepsEachSplitInTheTaskOfItsIndex() {
    Map<Long, List<Long>> seen = tasksPerRecord(DataStream::forward, 2, 2);
    assertEquals(400, seen.size());
    // SequenceSource split i reads positions i, i + 2, ...: 1, 3, 5 ... go to split 0.
    for (Map.Entry<Long, List<Long>> e : seen.entrySet()) {
      assertEquals(List.of((e.getKey() - 1) % 2), e.getValue(), "record " + e.getKey());
    }
  }

  /** A function with a field each task changes: tasks must never share an instance. */
  static final class Numbering extends ProcessFunction<Long, long[]> {
    static final Set<Integer> INSTANCES = ConcurrentHashMap.newKeySet();
    private long seen;
    private transient int subtask;

    @Override
    public void open(OpenContext context) {
      subtask = context.subtaskIndex();
      INSTANCES.add(System.identityHashCode(this));
    }

    @Override
    public void processElement(Long value, Context context, Collector<long[]> out) {
      out.collect(new long[] {subtask, ++seen});
    }
  }

  @Test
  void everyTaskGetsItsOwnCopyOfEveryFunction() {
    Numbering template = new Numbering();
    Numbering.INSTANCES.clear();
    CollectingSink<long[]> out = new CollectingSink<>();
    try (StreamEnvironment env = env(3)) {
      env.fromSource(new SequenceSource(1, 900), WatermarkStrategy.noWatermarks(), "n", 1)
          .rebalance()
          .process(template).setParallelism(3)
          .sinkTo(out);
      env.execute("copies").join();
    }
    assertEquals(3, Numbering.INSTANCES.size(), "tasks shared a function instance");
    assertFalse(Numbering.INSTANCES.contains(System.identityHashCode(template)),
        "a task used the job's template itself");
    assertEquals(0, template.seen);
    // Each task counted only its own records: 1..300 each, no gaps, no sharing.
    Map<Long, List<Long>> counts = new HashMap<>();
    for (long[] r : out.records()) {
      counts.computeIfAbsent(r[0], k -> new ArrayList<>()).add(r[1]);
    }
    for (List<Long> c : counts.values()) {
      assertEquals(range(1, 300), sorted(c));
    }
  }

  /** Emits one array it keeps changing: only bytes keep each record as it was emitted. */
  static final class Reuse extends ProcessFunction<Long, long[]> {
    private final long[] buffer = new long[1];

    @Override
    public void processElement(Long value, Context context, Collector<long[]> out) {
      buffer[0] = value;
      out.collect(buffer);
      buffer[0] = -1;
    }
  }

  @Test
  void recordsCrossTasksAsBytesSoAProducerCannotChangeThemAfterwards() {
    CollectingSink<Long> out = new CollectingSink<>();
    try (StreamEnvironment env = env(2)) {
      env.fromSource(new SequenceSource(1, 300), WatermarkStrategy.noWatermarks(), "n", 1)
          .process(new Reuse())
          .rebalance()
          .map(a -> a[0]).returns(Serdes.LONG).setParallelism(2)
          .sinkTo(out);
      env.execute("bytes").join();
    }
    assertEquals(range(1, 300), sorted(out.records()));
  }

  /** Flags records behind the watermark; a timer per record's time, emitted when it fires. */
  static final class LateOrOnTime extends KeyedProcessFunction<Long, Long, String> {
    @Override
    public void processElement(Long value, Context<Long> context, Collector<String> out) {
      if (context.timestamp() <= context.timerService().currentWatermark()) {
        out.collect("late " + value + " at watermark "
            + context.timerService().currentWatermark());
      } else {
        context.timerService().registerEventTimeTimer(context.timestamp());
      }
    }

    @Override
    public void onTimer(long timestamp, Context<Long> context, Collector<String> out) {
      out.collect("fired " + timestamp);
    }
  }

  @Test
  void theWatermarkOfAUnionIsTheMinimumOverItsInputs() {
    CollectingSink<String> out = new CollectingSink<>();
    try (StreamEnvironment env = env(2)) {
      DataStream<Long> fast = env.fromSource(new SequenceSource(0, 2_000),
          WatermarkStrategy.forMonotonousTimestamps(), "fast");
      DataStream<Long> slow = env.fromSource(new SequenceSource(0, 2_000),
          WatermarkStrategy.forMonotonousTimestamps(), "slow")
          .filter(n -> {
            java.util.concurrent.locks.LockSupport.parkNanos(200_000);
            return true;
          });
      fast.union(slow)
          .keyBy(n -> n % 4, Serdes.LONG)
          .process(new LateOrOnTime(), "timers")
          .sinkTo(out);
      env.execute("union-watermarks").join();
    }
    List<String> late = out.records().stream().filter(l -> l.startsWith("late")).toList();
    assertEquals(List.of(), late, "the fast input's watermark ran ahead of the slow one's");
    assertEquals(2_001, out.records().size());
  }

  @Test
  void anErrorThrownByAChainedFunctionFailsTheJobInsteadOfStallingIt() {
    try (StreamEnvironment env = env(2)) {
      env.fromSource(new SequenceSource(1, 100), WatermarkStrategy.noWatermarks(), "n", 1)
          .rebalance()
          .map(n -> {
            if (n == 42) {
              throw new AssertionError("broken invariant at " + n);
            }
            return n;
          }).returns(Serdes.LONG).setParallelism(2)
          .sinkTo(new CollectingSink<>());
      java.util.concurrent.ExecutionException e = assertThrows(
          java.util.concurrent.ExecutionException.class,
          () -> env.execute("error").get(60, java.util.concurrent.TimeUnit.SECONDS));
      assertTrue(String.valueOf(e.getCause()).contains("broken invariant at 42"),
          String.valueOf(e.getCause()));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void theGraphDescribesOperatorsChainsAndEdges() {
    try (StreamEnvironment env = env(2)) {
      DataStream<Long> numbers = env.fromSource(new SequenceSource(1, 10),
          WatermarkStrategy.noWatermarks(), "numbers", 2);
      numbers.filter(n -> n > 0).name("positive")
          .keyBy(n -> n, Serdes.LONG)
          .process(new Count<>(), "counts")
          .sinkTo(new CollectingSink<>());
      numbers.rebalance().map(n -> n).returns(Serdes.LONG).setParallelism(3)
          .sinkTo(new CollectingSink<>());
      io.stratus.runtime.execution.JobTopology topology =
          new io.stratus.runtime.execution.JobTopology(env.graph("described"), env.config(),
              Map.of("counts", 4));
      Map<String, Object> json = topology.describe();
      @SuppressWarnings("unchecked")
      List<Map<String, Object>> ops = (List<Map<String, Object>>) json.get("operators");
      @SuppressWarnings("unchecked")
      List<Map<String, Object>> edges = (List<Map<String, Object>>) json.get("edges");
      Map<String, Map<String, Object>> byName = new HashMap<>();
      ops.forEach(o -> byName.put((String) o.get("name"), o));
      assertEquals(2, byName.get("positive").get("parallelism"));
      assertEquals(byName.get("numbers").get("vertex"), byName.get("positive").get("vertex"),
          "a filter at its input's parallelism runs chained");
      assertEquals(4, byName.get("counts").get("parallelism"));
      assertEquals("counts", byName.get("counts").get("uid"));
      assertEquals(byName.get("counts").get("vertex"), byName.get("sink").get("vertex"));
      assertEquals(3, byName.get("map").get("parallelism"));
      assertEquals(3, byName.get("sink-2").get("parallelism"), "a sink follows its input");
      List<String> kinds = edges.stream().map(e -> e.get("partitioning") + ":" + e.get("chained"))
          .toList();
      assertEquals(List.of("forward:true", "hash:false", "forward:true", "rebalance:false",
          "forward:true"), kinds);
      assertTrue(edges.get(1).get("serde") != null);
      assertNotSame(json.get("job"), null);
    }
  }
}
