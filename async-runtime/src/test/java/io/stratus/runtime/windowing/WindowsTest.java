package io.stratus.runtime.windowing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.api.StreamEnvironment;
import io.stratus.runtime.api.WindowedStream;
import io.stratus.runtime.functions.Collector;
import io.stratus.runtime.functions.OutputTag;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.serde.Serde;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.sink.CollectingSink;
import io.stratus.runtime.source.CollectionSource;
import io.stratus.runtime.source.Source;
import io.stratus.runtime.source.OffsetReader;
import io.stratus.runtime.source.SourceReader;
import io.stratus.runtime.source.SourceRecord;
import io.stratus.runtime.state.Aggregator;
import io.stratus.runtime.state.BackendFixture;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Windows against hand-computed expectations. The source reads one record per batch and emits
 * its watermark after each, so which records are late, and at which watermark each window
 * fires, follows from the input alone.
 */
class WindowsTest {

  /** An input record: key, event time, value. */
  record Ev(String key, long ts, long value) {}

  static final Serde<Ev> EV = Serdes.record(Ev.class);
  static final OutputTag<Ev> LATE = new OutputTag<>("late");

  @TempDir
  Path dir;

  static Stream<String> kinds() {
    return BackendFixture.KINDS.stream();
  }

  private RuntimeConfig config(String backend) {
    return RuntimeConfig.defaults().withBackend(backend).withParallelism(2).withSourceBatch(1)
        .withLocalStateDirectory(dir.resolve("rocksdb"));
  }

  private static Ev ev(String key, long ts, long value) {
    return new Ev(key, ts, value);
  }

  /** "key [start,end) v1+v2+... @watermark" for each firing, in firing order per key. */
  static final class Describe extends ProcessWindowFunction<Ev, String, String> {
    @Override
    public void process(String key, Context context, Iterable<Ev> records, Collector<String> out) {
      List<String> values = new ArrayList<>();
      records.forEach(e -> values.add(String.valueOf(e.value())));
      TimeWindow w = context.window();
      long wm = context.currentWatermark();
      out.collect(key + " [" + w.start() + "," + w.end() + ") " + String.join("+", values)
          + " @" + (wm == Long.MAX_VALUE ? "end" : String.valueOf(wm)));
    }
  }

  /**
   * Runs {@code input} (one source split) through {@code windowing} and a keyed window operator;
   * returns the main output and the late records, each sorted by key then firing order.
   */
  private List<List<String>> run(String backend, List<Ev> input, WatermarkStrategy watermarks,
      Function<WindowedStream<String, Ev>, WindowedStream<String, Ev>> windowing,
      WindowAssigner<Ev> assigner) {
    CollectingSink<String> out = new CollectingSink<>();
    CollectingSink<Ev> late = new CollectingSink<>();
    try (StreamEnvironment env = StreamEnvironment.local(config(backend))) {
      WindowedStream<String, Ev> windowed = env.fromSource(
              new CollectionSource<>(input, Ev::ts), watermarks, "events", 1)
          .keyBy(Ev::key, Serdes.STRING)
          .window(assigner);
      windowing.apply(windowed).sideOutputLateData(LATE)
          .process(new Describe(), EV, "windows")
          .sideOutputTo(LATE, late)
          .sinkTo(out);
      env.execute("windows").join();
    }
    return List.of(byKey(out.records()),
        late.records().stream().map(e -> e.key() + "@" + e.ts() + "=" + e.value()).toList());
  }

  /** Lines grouped by key (the text before the first space), firing order kept within a key. */
  private static List<String> byKey(List<String> lines) {
    return lines.stream().collect(Collectors.groupingBy(l -> l.substring(0, l.indexOf(' ')),
            java.util.TreeMap::new, Collectors.toList()))
        .values().stream().flatMap(List::stream).toList();
  }

  /**
   * Tumbling 10 ms windows, watermark = max timestamp - 5 - 1. Watermarks after each record:
   * -5, 2, 2, 6, 6, 11, 11, 19, then the end. At 11 [0,10) fires (a: 1+2+4, b: 10); (a, 2) then
   * arrives for a window that has fired: late. At 19 a's [10,20) fires; at the end b's [20,30).
   */
  static List<Ev> outOfOrder() {
    return List.of(ev("a", 1, 1), ev("a", 8, 2), ev("b", 3, 10), ev("a", 12, 3), ev("a", 5, 4),
        ev("a", 17, 5), ev("a", 2, 6), ev("b", 25, 7));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void tumblingWindowsFireOnTheWatermarkAndLateRecordsGoToTheSideOutput(String backend) {
    List<List<String>> result = run(backend, outOfOrder(),
        WatermarkStrategy.forBoundedOutOfOrderness(Duration.ofMillis(5)), w -> w,
        TumblingWindows.ofEventTime(Duration.ofMillis(10)));
    assertEquals(List.of("a [0,10) 1+2+4 @11", "a [10,20) 3+5 @19", "b [0,10) 10 @11",
        "b [20,30) 7 @end"), result.get(0));
    assertEquals(List.of("a@2=6"), result.get(1));
  }

  /**
   * As above with 5 ms allowed lateness: (a, 2) at watermark 11 updates [0,10) (purged only at
   * 9 + 5 = 14) and fires it again at once; at watermark 19 it is purged, so (a, 3) is late.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void allowedLatenessRefiresTheWindowUntilItIsPurged(String backend) {
    List<Ev> input = new ArrayList<>(outOfOrder());
    input.add(ev("a", 3, 100));
    List<List<String>> result = run(backend, input,
        WatermarkStrategy.forBoundedOutOfOrderness(Duration.ofMillis(5)),
        w -> w.allowedLateness(Duration.ofMillis(5)),
        TumblingWindows.ofEventTime(Duration.ofMillis(10)));
    assertEquals(List.of("a [0,10) 1+2+4 @11", "a [0,10) 1+2+4+6 @11", "a [10,20) 3+5 @19",
        "b [0,10) 10 @11", "b [20,30) 7 @end"), result.get(0));
    assertEquals(List.of("a@3=100"), result.get(1));
  }

  /**
   * Sliding 10 ms windows every 5 ms, timestamps in order: ts 1 is in [-5,5) and [0,10), ts 6
   * in [0,10) and [5,15), ts 11 in [5,15) and [10,20). Watermarks 0, 5, 10, then the end.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void slidingWindowsHoldEachRecordInSizeOverSlideWindows(String backend) {
    List<List<String>> result = run(backend,
        List.of(ev("a", 1, 1), ev("a", 6, 2), ev("a", 11, 3)),
        WatermarkStrategy.forMonotonousTimestamps(), w -> w,
        SlidingWindows.ofEventTime(Duration.ofMillis(10), Duration.ofMillis(5)));
    assertEquals(List.of("a [-5,5) 1 @5", "a [0,10) 1+2 @10", "a [5,15) 2+3 @end",
        "a [10,20) 3 @end"), result.get(0));
    assertEquals(List.of(), result.get(1));
  }

  /**
   * Sessions with a 10 ms gap, watermark = max - 21: ts 0 and 5 make [0,15); 30 makes [30,40);
   * 22 merges into [22,40); 12 touches both [0,15) and [22,40) and bridges them into [0,40),
   * which fires when 70 moves the watermark to 49 (as does b's [1,11)). Records in order of the
   * merged sessions.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void sessionWindowsMergeWhenARecordBridgesThem(String backend) {
    List<List<String>> result = run(backend,
        List.of(ev("b", 1, 1), ev("a", 0, 0), ev("a", 5, 5), ev("a", 30, 30), ev("a", 22, 22),
            ev("a", 12, 12), ev("a", 70, 70)),
        WatermarkStrategy.forBoundedOutOfOrderness(Duration.ofMillis(20)), w -> w,
        SessionWindows.ofEventTime(Duration.ofMillis(10)));
    assertEquals(List.of("a [0,40) 0+5+30+22+12 @49", "a [70,80) 70 @end", "b [1,11) 1 @49"),
        result.get(0));
    assertEquals(List.of(), result.get(1));
  }

  /** Count and timestamp range per window: the accumulator is incremental, never a list. */
  static final class CountAndRange implements Aggregator<Ev, long[], String> {
    @Override
    public long[] createAccumulator() {
      return new long[] {0, Long.MAX_VALUE, Long.MIN_VALUE};
    }

    @Override
    public long[] add(Ev value, long[] acc) {
      return new long[] {acc[0] + 1, Math.min(acc[1], value.ts()), Math.max(acc[2], value.ts())};
    }

    @Override
    public String getResult(long[] acc) {
      return acc[0] + " in " + acc[1] + ".." + acc[2];
    }

    @Override
    public long[] merge(long[] a, long[] b) {
      return new long[] {a[0] + b[0], Math.min(a[1], b[1]), Math.max(a[2], b[2])};
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void reduceAndAggregateFireOnePerWindowAndSessionsMergeAccumulators(String backend) {
    CollectingSink<Ev> sums = new CollectingSink<>();
    CollectingSink<String> sessions = new CollectingSink<>();
    List<Ev> input = List.of(ev("a", 1, 1), ev("a", 4, 2), ev("a", 9, 3), ev("a", 10, 4),
        ev("a", 30, 5), ev("a", 34, 6));
    try (StreamEnvironment env = StreamEnvironment.local(config(backend))) {
      env.fromSource(new CollectionSource<>(input, Ev::ts),
              WatermarkStrategy.forMonotonousTimestamps(), "events", 1)
          .keyBy(Ev::key, Serdes.STRING)
          .window(TumblingWindows.ofEventTime(Duration.ofMillis(10)))
          .reduce((x, y) -> new Ev(x.key(), x.ts(), x.value() + y.value()), EV, "sums")
          .sinkTo(sums);
      env.execute("reduce").join();
    }
    assertEquals(List.of(ev("a", 1, 6), ev("a", 10, 4), ev("a", 30, 11)), sums.records());
    try (StreamEnvironment env = StreamEnvironment.local(config(backend))) {
      env.fromSource(new CollectionSource<>(input, Ev::ts),
              WatermarkStrategy.forMonotonousTimestamps(), "events", 1)
          .keyBy(Ev::key, Serdes.STRING)
          .window(SessionWindows.ofEventTime(Duration.ofMillis(5)))
          .aggregate(new CountAndRange(), Serdes.LONG_ARRAY, "sessions")
          .sinkTo(sessions);
      env.execute("aggregate").join();
    }
    // Gaps of 3, 5 (touching: 4 + 5 = 9), 1, 20, 4: sessions [1,15) and [30,39).
    assertEquals(List.of("4 in 1..10", "2 in 30..34"), sessions.records());
  }

  @Test
  void badWindowDefinitionsAreRefusedNamingTheProblem() {
    IllegalArgumentException slide = assertThrows(IllegalArgumentException.class,
        () -> SlidingWindows.ofEventTime(Duration.ofMillis(5), Duration.ofMillis(10)));
    assertTrue(slide.getMessage().contains("must not exceed its size"), slide.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> TumblingWindows.ofEventTime(Duration.ZERO));
    assertThrows(IllegalArgumentException.class,
        () -> SessionWindows.ofProcessingTime(Duration.ofMillis(-1)));
    assertThrows(IllegalArgumentException.class,
        () -> WatermarkStrategy.noWatermarks().withIdleness(Duration.ZERO));
  }

  /**
   * A source that hands out one record of key "k" every {@code everyMillis} (empty polls in
   * between, so the source task waits without blocking a thread), {@code count} in all.
   */
  static final class PacedSource implements Source<Ev> {
    private final int count;
    private final long everyMillis;

    PacedSource(int count, long everyMillis) {
      this.count = count;
      this.everyMillis = everyMillis;
    }

    @Override
    public boolean bounded() {
      return true;
    }

    @Override
    public SourceReader<Ev> createReader(int split, int splits) {
      return new OffsetReader<>() {
        private int next;
        private long last;

        @Override
        public List<SourceRecord<Ev>> poll(int max) {
          if (next >= count) {
            return null;
          }
          long now = System.currentTimeMillis();
          if (now - last < everyMillis) {
            return List.of();
          }
          last = now;
          Ev e = ev("k", next, 1);
          next++;
          return List.of(new SourceRecord<>(e, e.ts()));
        }

        @Override
        public long offset() {
          return next;
        }

        @Override
        public void seek(long offset) {
          next = (int) offset;
        }
      };
    }
  }

  /** Processing-time windows fire on the clock while the input runs. */
  @Test
  void processingTimeWindowsFireOnTheClock() {
    CollectingSink<String> out = new CollectingSink<>();
    try (StreamEnvironment env = StreamEnvironment.local(config("heap"))) {
      env.fromSource(new PacedSource(40, 10), WatermarkStrategy.noWatermarks(), "events", 1)
          .keyBy(Ev::key, Serdes.STRING)
          .window(TumblingWindows.ofProcessingTime(Duration.ofMillis(50)))
          .process(new Describe(), EV, "clock")
          .sinkTo(out);
      env.execute("clock").join();
    }
    // About 400 ms of input in 50 ms windows: several fire while the input runs; the records
    // still in the last window when a bounded input ends are not emitted (as in Flink).
    assertTrue(out.records().size() >= 3, String.valueOf(out.records()));
    int counted = 0;
    for (String line : out.records()) {
      String[] f = line.split(" ");
      String[] range = f[1].substring(1, f[1].length() - 1).split(",");
      assertEquals(50, Long.parseLong(range[1]) - Long.parseLong(range[0]), line);
      assertEquals(0, Long.parseLong(range[0]) % 50, line);
      counted += f[2].split("\\+").length;
    }
    assertTrue(counted > 0 && counted <= 40, "records in fired windows: " + counted);
  }

  /** Lets {@link QuietSplitSource} end; reset by each test. */
  static volatile boolean release;

  /**
   * Two splits: split 0 reads records of key "k" at ts 1..25, one per poll, then nothing until
   * {@link #release}; split 1 reads nothing at all until then.
   */
  static final class QuietSplitSource implements Source<Ev> {
    @Override
    public boolean bounded() {
      return true;
    }

    @Override
    public SourceReader<Ev> createReader(int split, int splits) {
      return new OffsetReader<>() {
        private int next = 1;

        @Override
        public List<SourceRecord<Ev>> poll(int max) {
          if (split == 0 && next <= 25) {
            Ev e = ev("k", next, next);
            next++;
            return List.of(new SourceRecord<>(e, e.ts()));
          }
          return release ? null : List.of();
        }

        @Override
        public long offset() {
          return next;
        }

        @Override
        public void seek(long offset) {
          next = (int) offset;
        }
      };
    }
  }

  /**
   * Split 1 never reads: without idleness it holds the watermark at its start and no window
   * fires until the input ends; with it, split 1 is left out after 100 ms and [0,10) and
   * [10,20) fire while the job runs.
   */
  @ParameterizedTest(name = "idleness {0}")
  @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
  void anIdleInputHoldsTheWatermarkBackOnlyWithoutIdleness(boolean idleness) throws Exception {
    release = false;
    CollectingSink<String> out = new CollectingSink<>();
    WatermarkStrategy watermarks = WatermarkStrategy.forMonotonousTimestamps()
        .withEmitInterval(Duration.ofMillis(20));
    if (idleness) {
      watermarks = watermarks.withIdleness(Duration.ofMillis(100));
    }
    try (StreamEnvironment env = StreamEnvironment.local(config("heap"))) {
      env.fromSource(new QuietSplitSource(), watermarks, "events", 2)
          .keyBy(Ev::key, Serdes.STRING)
          .window(TumblingWindows.ofEventTime(Duration.ofMillis(10)))
          .process(new Describe(), EV, "idle")
          .sinkTo(out);
      java.util.concurrent.CompletableFuture<?> job = env.execute("idle");
      if (idleness) {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        while (out.records().size() < 2) {
          assertTrue(System.nanoTime() < deadline, "no window fired: " + out.records());
          Thread.sleep(5);
        }
        assertEquals(List.of("k [0,10) 1+2+3+4+5+6+7+8+9 @24",
            "k [10,20) 10+11+12+13+14+15+16+17+18+19 @24"), out.records());
      } else {
        // Far longer than the idleness timeout above: the quiet split still holds it back.
        Thread.sleep(1_000);
        assertEquals(List.of(), out.records());
      }
      assertTrue(!job.isDone(), "the job ended before the splits were released");
      release = true;
      job.get(30, java.util.concurrent.TimeUnit.SECONDS);
    }
    List<String> contents = List.of("k [0,10) 1+2+3+4+5+6+7+8+9",
        "k [10,20) 10+11+12+13+14+15+16+17+18+19", "k [20,30) 20+21+22+23+24+25");
    // Without idleness the first two fire only once a split ends: at 24 if the quiet split
    // ends first, else at the end.
    assertEquals(contents, out.records().stream().map(l -> l.substring(0, l.indexOf(" @")))
        .toList());
    if (idleness) {
      assertEquals("k [20,30) 20+21+22+23+24+25 @end", out.records().get(2));
    }
  }
}
