package io.stratus.runtime.execution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.api.StreamEnvironment;
import io.stratus.runtime.functions.Collector;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.sink.CollectingSink;
import io.stratus.runtime.source.SequenceSource;
import io.stratus.runtime.source.Source;
import io.stratus.runtime.source.OffsetReader;
import io.stratus.runtime.source.SourceReader;
import io.stratus.runtime.source.SourceRecord;
import io.stratus.runtime.state.BackendFixture;
import io.stratus.runtime.state.KeyedStateBackend;
import io.stratus.runtime.state.StateHandle;
import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.keygroup.KeyGroups;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Event-time and processing-time timers of keyed tasks, and their persistence in state. */
class TimersTest {

  private static final int KEYS = 10;

  @TempDir
  Path dir;

  static Stream<String> kinds() {
    return BackendFixture.KINDS.stream();
  }

  private RuntimeConfig config(String backend) {
    return RuntimeConfig.defaults().withBackend(backend).withParallelism(2)
        .withLocalStateDirectory(dir.resolve("rocksdb"));
  }

  // ----------------------------------------------------------------------------- event time

  /**
   * Record {@code ts} of key {@code ts % 10} sets timers at ts+5, ts+37, ts+20 and ts+13, deletes
   * ts+13 at once and deletes the ts+37 timer its key's previous record set (ts-10+37, not yet
   * due). A timer at T = ts+20 sets T+1 from onTimer when the watermark has passed T+1 already.
   * Timestamps of one key never collide: the offsets differ modulo 10.
   */
  static final class TimerPattern extends KeyedProcessFunction<Long, Long, String> {
    @Override
    public void processElement(Long ts, Context<Long> context, Collector<String> out) {
      TimerService timers = context.timerService();
      if (timers.currentWatermark() >= ts) {
        out.collect("late record " + ts + " at watermark " + timers.currentWatermark());
      }
      timers.registerEventTimeTimer(ts + 5);
      timers.registerEventTimeTimer(ts + 37);
      timers.registerEventTimeTimer(ts + 20);
      timers.registerEventTimeTimer(ts + 13);
      timers.deleteEventTimeTimer(ts + 13);
      if (ts >= KEYS) {
        timers.deleteEventTimeTimer(ts - KEYS + 37);
      }
    }

    @Override
    public void onTimer(long timestamp, Context<Long> context, Collector<String> out) {
      long key = context.currentKey();
      long watermark = context.timerService().currentWatermark();
      out.collect("fired " + key + " " + timestamp + " " + watermark);
      if (Math.floorMod(timestamp - key, KEYS) == 0 && watermark >= timestamp + 1) {
        context.timerService().registerEventTimeTimer(timestamp + 1);
        out.collect("chained " + key + " " + (timestamp + 1) + " " + watermark);
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void eventTimeTimersFireInOrderAfterTheWatermarkUnlessDeleted(String backend) {
    int n = 2000;
    CollectingSink<String> sink = new CollectingSink<>();
    try (StreamEnvironment env = StreamEnvironment.local(config(backend))) {
      // The source emits a watermark (max timestamp - 1) after every batch of 256 records.
      env.fromSource(new SequenceSource(0, n - 1), WatermarkStrategy.forMonotonousTimestamps(),
              "numbers")
          .keyBy(x -> x % KEYS, Serdes.LONG)
          .process(new TimerPattern(), "timers")
          .sinkTo(sink);
      env.execute("event-timers").join();
    }
    List<String> out = sink.records();
    Set<String> expected = new TreeSet<>();
    for (long ts = 0; ts < n; ts++) {
      expected.add(ts % KEYS + " " + (ts + 5));
      expected.add(ts % KEYS + " " + (ts + 20));
      if (ts >= n - KEYS) {
        expected.add(ts % KEYS + " " + (ts + 37)); // each key's last +37 timer is not deleted
      }
    }
    Map<String, Long> chained = new HashMap<>();
    Set<String> fired = new TreeSet<>();
    Map<Long, Long> lastPerKey = new HashMap<>();
    List<String> problems = new ArrayList<>();
    for (String line : out) {
      String[] f = line.split(" ");
      if (line.startsWith("late")) {
        problems.add(line);
      } else if (f[0].equals("chained")) {
        chained.put(f[1] + " " + f[2], Long.parseLong(f[3]));
      } else {
        long key = Long.parseLong(f[1]);
        long ts = Long.parseLong(f[2]);
        long watermark = Long.parseLong(f[3]);
        String id = key + " " + ts;
        if (!fired.add(id)) {
          problems.add("fired twice: " + line);
        }
        if (watermark < ts) {
          problems.add("fired before the watermark passed it: " + line);
        }
        if (chained.containsKey(id)) {
          // Set in onTimer at a watermark already past it: fires in that same advance, after
          // the timers already due then (so not necessarily in timestamp order with them).
          if (chained.remove(id) != watermark) {
            problems.add("chained timer waited for a later watermark: " + line);
          }
          continue;
        }
        Long previous = lastPerKey.put(key, ts);
        if (previous != null && previous >= ts) {
          problems.add("key " + key + " fired " + ts + " after " + previous);
        }
      }
    }
    assertEquals(List.of(), problems.subList(0, Math.min(10, problems.size())));
    assertEquals(Map.of(), chained, "chained timers that never fired");
    long chainedCount = out.stream().filter(s -> s.startsWith("chained")).count();
    assertTrue(chainedCount >= KEYS, "the end-of-input watermark chains at least one timer per "
        + "key, saw " + chainedCount);
    assertEquals(chainedCount, fired.stream().filter(TimersTest::isChain).count());
    Set<String> firedFromRecords = new TreeSet<>(fired);
    firedFromRecords.removeIf(TimersTest::isChain);
    assertEquals(expected, firedFromRecords, "deleted timers must not fire, others must");
  }

  /** Chained timers sit at key + 1 modulo 10, where no record sets one. */
  private static boolean isChain(String id) {
    String[] f = id.split(" ");
    return Math.floorMod(Long.parseLong(f[1]) - Long.parseLong(f[0]), KEYS) == 1;
  }

  // ------------------------------------------------------------------------ processing time

  /**
   * Emits one record per key, then idles (an open input) until the sink has seen every expected
   * timer or a generous deadline passes: processing-time timers only fire while the job runs.
   */
  static final class OpenUntilFired implements Source<Long> {
    private final int keys;
    private final CollectingSink<String> sink;
    private final long deadlineNanos;

    OpenUntilFired(int keys, CollectingSink<String> sink, long timeoutSeconds) {
      this.keys = keys;
      this.sink = sink;
      this.deadlineNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    }

    @Override
    public boolean bounded() {
      return false;
    }

    @Override
    public SourceReader<Long> createReader(int split, int splits) {
      return new OffsetReader<>() {
        private long next;

        @Override
        public List<SourceRecord<Long>> poll(int max) {
          if (next < keys) {
            List<SourceRecord<Long>> out = new ArrayList<>();
            while (next < keys && out.size() < max) {
              out.add(new SourceRecord<>(next++, Long.MIN_VALUE));
            }
            return out;
          }
          boolean allFired = sink.records().stream().filter(s -> s.startsWith("fired"))
              .count() >= keys;
          return allFired || System.nanoTime() > deadlineNanos ? null : List.of();
        }

        @Override
        public long offset() {
          return next;
        }

        @Override
        public void seek(long offset) {
          next = offset;
        }
      };
    }
  }

  /** Sets a processing-time timer 50-90 ms ahead, and one 20 ms ahead that it deletes. */
  static final class ProcessingTimers extends KeyedProcessFunction<Long, Long, String> {
    @Override
    public void processElement(Long key, Context<Long> context, Collector<String> out) {
      long now = context.timerService().currentProcessingTime();
      context.timerService().registerProcessingTimeTimer(now + 20);
      context.timerService().deleteProcessingTimeTimer(now + 20);
      long at = now + 50 + 10 * (key % 5);
      context.timerService().registerProcessingTimeTimer(at);
      out.collect("set " + key + " " + at);
    }

    @Override
    public void onTimer(long timestamp, Context<Long> context, Collector<String> out) {
      out.collect("fired " + context.currentKey() + " " + timestamp + " "
          + context.timerService().currentProcessingTime());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void processingTimeTimersFireNotBeforeTheirTime(String backend) {
    int keys = 50;
    CollectingSink<String> sink = new CollectingSink<>();
    try (StreamEnvironment env = StreamEnvironment.local(config(backend))) {
      env.fromSource(new OpenUntilFired(keys, sink, 30), WatermarkStrategy.noWatermarks(),
              "keys")
          .keyBy(x -> x, Serdes.LONG)
          .process(new ProcessingTimers(), "processing-timers")
          .sinkTo(sink);
      env.execute("processing-timers").join();
    }
    Map<Long, Long> set = new HashMap<>();
    List<String> fired = new ArrayList<>();
    for (String line : sink.records()) {
      String[] f = line.split(" ");
      if (f[0].equals("set")) {
        set.put(Long.parseLong(f[1]), Long.parseLong(f[2]));
      } else {
        fired.add(line);
        long ts = Long.parseLong(f[2]);
        assertEquals(set.get(Long.parseLong(f[1])), ts, "only the kept timer fires: " + line);
        assertTrue(Long.parseLong(f[3]) >= ts, "fired before its time: " + line);
      }
    }
    assertEquals(keys, set.size());
    assertEquals(keys, fired.size(), "timers that fired within 30 s: " + fired);
  }

  // ------------------------------------------------------------------- snapshot and restore

  private static String describe(KeyedTimers.Timer t) {
    return t.timestamp() + " key " + Serdes.LONG.fromBytes(t.keyBytes()) + " group "
        + t.keyGroup() + " ns " + Arrays.toString(t.namespace());
  }

  static Stream<Arguments> kindsAndHandles() {
    return kinds().flatMap(kind -> Stream.of(Arguments.of(kind, true),
        Arguments.of(kind, false)));
  }

  /**
   * Timers live in the backend: after a snapshot and a restore (whole range or half of it),
   * {@link KeyedTimers#restore} finds exactly the timers that were pending, of the restored key
   * groups, and they come out in timestamp order: from a handle that lists the key groups with
   * timers, and from one that does not (written before handles did), through the markers.
   */
  @ParameterizedTest(name = "{0}, groups listed: {1}")
  @MethodSource("kindsAndHandles")
  void timersSurviveSnapshotAndRestore(String kind, boolean listed) {
    try (BackendFixture fixture = new BackendFixture(kind, dir)) {
      int maxParallelism = fixture.maxParallelism();
      KeyGroupRange all = KeyGroupRange.all(maxParallelism);
      KeyedStateBackend backend = fixture.create("timers", all);
      KeyedTimers timers = new KeyedTimers(backend);
      List<KeyedTimers.Timer> pendingEvent = new ArrayList<>();
      List<KeyedTimers.Timer> pendingProcessing = new ArrayList<>();
      for (long k = 0; k < 100; k++) {
        byte[] key = Serdes.LONG.toBytes(k);
        int group = KeyGroups.keyGroupOf(key, maxParallelism);
        KeyedTimers.Timer early = new KeyedTimers.Timer(100 + k, key, group, new byte[0]);
        KeyedTimers.Timer late = new KeyedTimers.Timer(1000 + k, key, group, new byte[0]);
        KeyedTimers.Timer window1 = new KeyedTimers.Timer(2000, key, group, new byte[] {1});
        KeyedTimers.Timer window2 = new KeyedTimers.Timer(2000, key, group, new byte[] {2});
        KeyedTimers.Timer processing = new KeyedTimers.Timer(5000 - k, key, group, new byte[0]);
        timers.registerEventTime(early);
        timers.registerEventTime(late);
        timers.registerEventTime(window1);
        timers.registerEventTime(window2);
        timers.registerProcessingTime(processing);
        if (k % 2 == 0) {
          timers.deleteEventTime(new KeyedTimers.Timer(1000 + k, key, group, new byte[0]));
        } else {
          pendingEvent.add(late);
        }
        if (100 + k > 149) {
          pendingEvent.add(early);
        }
        pendingEvent.add(window1);
        pendingEvent.add(window2);
        pendingProcessing.add(processing);
      }
      // Fired timers are gone from the backend too.
      assertEquals(50, timers.dueEventTime(149).size());
      StateHandle snapshot = TaskThread.await(backend.snapshot());
      StateHandle handle = listed ? snapshot.withTimerKeyGroups(timers.keyGroupsWithTimers())
          : snapshot;

      for (KeyGroupRange range : List.of(all, KeyGroupRange.of(0, maxParallelism / 2 - 1))) {
        KeyedTimers restored = new KeyedTimers(fixture.restore("restored-" + range.end(), range,
            List.of(handle)));
        TaskThread.await(restored.restore(List.of(handle)));
        Set<Integer> groups = new TreeSet<>();
        pendingEvent.stream().filter(t -> range.contains(t.keyGroup()))
            .forEach(t -> groups.add(t.keyGroup()));
        assertEquals(groups, expand(restored.keyGroupsWithTimers()), range.toString());
        List<String> expectedEvent = pendingEvent.stream()
            .filter(t -> range.contains(t.keyGroup())).sorted().map(TimersTest::describe)
            .toList();
        List<String> expectedProcessing = pendingProcessing.stream()
            .filter(t -> range.contains(t.keyGroup())).sorted().map(TimersTest::describe)
            .toList();
        assertTrue(expectedEvent.size() > 0 && expectedProcessing.size() > 0);
        assertEquals(expectedEvent.size(), restored.eventTimeCount(), range.toString());
        assertEquals(expectedProcessing.get(0).split(" ")[0],
            String.valueOf(restored.nextProcessingTime()), range.toString());
        assertEquals(expectedEvent, restored.dueEventTime(Long.MAX_VALUE).stream()
            .map(TimersTest::describe).toList(), range.toString());
        assertEquals(expectedProcessing, restored.dueProcessingTime(Long.MAX_VALUE).stream()
            .map(TimersTest::describe).toList(), range.toString());
      }
    }
  }

  private static Set<Integer> expand(List<KeyGroupRange> ranges) {
    Set<Integer> groups = new TreeSet<>();
    for (KeyGroupRange r : ranges) {
      for (int g = r.start(); g <= r.end(); g++) {
        groups.add(g);
      }
    }
    return groups;
  }

  /**
   * A restore trusts the handle's list: the timers of key groups it leaves out are not loaded
   * (no marker is looked up), which is what keeps a restored task's opening free of reads. A
   * handle without a list makes the restore look every key group's marker up.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void aHandleThatListsKeyGroupsWithTimersIsTakenAtItsWord(String kind) {
    try (BackendFixture fixture = new BackendFixture(kind, dir)) {
      KeyGroupRange all = KeyGroupRange.all(fixture.maxParallelism());
      KeyedStateBackend backend = fixture.create("listed", all);
      KeyedTimers timers = new KeyedTimers(backend);
      for (int group : List.of(3, 4, 5, 9, 40)) {
        timers.registerEventTime(new KeyedTimers.Timer(group, new byte[] {(byte) group}, group,
            new byte[0]));
      }
      assertEquals(List.of(KeyGroupRange.of(3, 5), KeyGroupRange.of(9, 9),
          KeyGroupRange.of(40, 40)), timers.keyGroupsWithTimers());
      StateHandle snapshot = TaskThread.await(backend.snapshot());

      StateHandle partial = snapshot.withTimerKeyGroups(List.of(KeyGroupRange.of(4, 9)));
      KeyedTimers fromList = new KeyedTimers(fixture.restore("from-list", all,
          List.of(partial)));
      TaskThread.await(fromList.restore(List.of(partial)));
      assertEquals(List.of(4L, 5L, 9L), fromList.dueEventTime(Long.MAX_VALUE).stream()
          .map(KeyedTimers.Timer::timestamp).toList());

      KeyedTimers fromMarkers = new KeyedTimers(fixture.restore("from-markers", all,
          List.of(snapshot)));
      TaskThread.await(fromMarkers.restore(List.of(snapshot)));
      assertEquals(List.of(3L, 4L, 5L, 9L, 40L), fromMarkers.dueEventTime(Long.MAX_VALUE)
          .stream().map(KeyedTimers.Timer::timestamp).toList());

      KeyedTimers fresh = new KeyedTimers(fixture.create("fresh", all));
      TaskThread.await(fresh.restore(List.of()));
      assertEquals(List.of(), fresh.keyGroupsWithTimers());
    }
  }

  /**
   * Scale-in: one task restores from two handles. With both listing their key groups each
   * contributes its own timers; with one that does not say (metadata from before the lists),
   * the whole range goes through the markers and nothing is lost either.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void aMergeRestoresTheTimersOfEveryHandleListedOrNot(String kind) {
    try (BackendFixture fixture = new BackendFixture(kind, dir)) {
      int half = fixture.maxParallelism() / 2;
      KeyGroupRange low = KeyGroupRange.of(0, half - 1);
      KeyGroupRange high = KeyGroupRange.of(half, fixture.maxParallelism() - 1);
      List<StateHandle> listed = new ArrayList<>();
      List<StateHandle> unlisted = new ArrayList<>();
      for (KeyGroupRange range : List.of(low, high)) {
        KeyedStateBackend backend = fixture.create("part-" + range.start(), range);
        KeyedTimers timers = new KeyedTimers(backend);
        for (int group : List.of(range.start() + 1, range.start() + 7)) {
          timers.registerEventTime(new KeyedTimers.Timer(group, new byte[] {(byte) group},
              group, new byte[0]));
        }
        StateHandle handle = TaskThread.await(backend.snapshot());
        listed.add(handle.withTimerKeyGroups(timers.keyGroupsWithTimers()));
        unlisted.add(handle);
      }
      List<Long> expected = List.of(1L, 7L, half + 1L, half + 7L);
      KeyGroupRange all = KeyGroupRange.all(fixture.maxParallelism());
      for (List<StateHandle> handles : List.of(listed, List.of(listed.get(0), unlisted.get(1)),
          List.of(unlisted.get(0), listed.get(1)))) {
        KeyedTimers merged = new KeyedTimers(fixture.restore("merged-" + merged(handles), all,
            handles));
        TaskThread.await(merged.restore(handles));
        assertEquals(expected, merged.dueEventTime(Long.MAX_VALUE).stream()
            .map(KeyedTimers.Timer::timestamp).toList(), String.valueOf(handles));
      }
    }
  }

  private static String merged(List<StateHandle> handles) {
    return handles.stream().map(h -> h.timerKeyGroups() == null ? "u" : "l")
        .reduce("", String::concat);
  }

  @Test
  void timerOrderBreaksTiesByKeyThenNamespace() {
    KeyedTimers.Timer a = new KeyedTimers.Timer(5, new byte[] {1}, 0, new byte[] {9});
    KeyedTimers.Timer b = new KeyedTimers.Timer(5, new byte[] {2}, 0, new byte[] {0});
    KeyedTimers.Timer c = new KeyedTimers.Timer(5, new byte[] {2}, 0, new byte[] {1});
    KeyedTimers.Timer d = new KeyedTimers.Timer(4, new byte[] {9}, 0, new byte[] {9});
    List<KeyedTimers.Timer> sorted = new ArrayList<>(List.of(c, a, d, b));
    sorted.sort(null);
    assertEquals(List.of(d, a, b, c), sorted);
  }
}
