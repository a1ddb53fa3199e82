package io.stratus.runtime.state;

import static io.stratus.runtime.state.StateHarness.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.runtime.serde.Serdes;
import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.keygroup.KeyGroups;
import io.stratus.store.lsm.KeyValue;
import io.stratus.store.lsm.StateStore;
import io.stratus.store.lsm.StoreOptions;
import io.stratus.runtime.serde.BytesIn;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One suite of the typed state API run against all three backends, through a real async
 * execution controller (see {@link StateHarness}). On the disaggregated backend the tests flush
 * between writes and reads, so reads go to SST files through the block cache and complete on
 * other threads.
 */
class StateTypesTest {

  /**
   * Start of the state clock: a day ahead of the wall clock, because the disaggregated store's
   * compaction filter judges expiry by the wall clock; values stamped from here on never look
   * expired to a compaction that runs during a test (which would remove them behind the test
   * clock's back). The compaction test below sets its clock on purpose.
   */
  private static final long T0 = System.currentTimeMillis() + Duration.ofDays(1).toMillis();

  @TempDir
  Path dir;

  private final List<AutoCloseable> toClose = new ArrayList<>();
  private BackendFixture fixture;
  private StateHarness h;

  static Stream<String> kinds() {
    return BackendFixture.KINDS.stream();
  }

  static Stream<Arguments> kindsAndUpdateTypes() {
    return BackendFixture.KINDS.stream().flatMap(k -> Arrays.stream(
        StateTtlConfig.UpdateType.values()).map(u -> Arguments.of(k, u)));
  }

  private StateHarness open(String kind) {
    return open(kind, StoreOptions.small(), T0);
  }

  private StateHarness open(String kind, StoreOptions options, long clockStart) {
    fixture = new BackendFixture(kind, dir, options);
    h = harness(fixture.create("state-test", KeyGroupRange.all(fixture.maxParallelism())),
        clockStart);
    return h;
  }

  private StateHarness harness(KeyedStateBackend backend, long clockStart) {
    StateHarness harness = new StateHarness(backend, fixture.maxParallelism(), clockStart)
        .withCache(fixture.cache);
    toClose.add(harness);
    return harness;
  }

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
    if (fixture != null) {
      fixture.close();
    }
  }

  // ------------------------------------------------------------------------------ ValueState

  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void valueStateReadsUpdatesAndClearsPerKey(String kind) {
    open(kind);
    ValueState<Long> v = h.state(new StateDescriptor.Value<>("v", Serdes.LONG));

    assertNull(h.get("alice", v::value), "absent value reads as null");
    h.run("alice", () -> v.update(1L));
    h.run("bob", () -> v.update(2L));
    assertEquals(1L, h.get("alice", v::value));
    h.flush();
    assertEquals(1L, h.get("alice", v::value));
    assertEquals(2L, h.get("bob", v::value));

    h.run("alice", () -> v.update(3L));
    assertEquals(3L, h.get("alice", v::value), "update overwrites");
    assertEquals(2L, h.get("bob", v::value), "another key's update does not leak");

    h.run("alice", v::clear);
    assertNull(h.get("alice", v::value));
    assertEquals(2L, h.get("bob", v::value), "clear touches only the current key");

    h.run("bob", () -> v.update(null));
    assertNull(h.get("bob", v::value), "update(null) clears");

    // A tombstone must hide a value that already sits in a file.
    h.run("carol", () -> v.update(5L));
    h.flush();
    h.run("carol", v::clear);
    h.flush();
    assertNull(h.get("carol", v::value));
  }

  // ------------------------------------------------------------------------------- ListState

  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void listStateAppendsWithoutReadingAndReplaces(String kind) {
    open(kind);
    ListState<String> l = h.state(new StateDescriptor.List<>("l", Serdes.STRING));

    assertEquals(List.of(), h.get("alice", l::get), "absent list reads as empty");
    int readsBefore = h.counting.reads.get();
    h.run("alice", () -> {
      l.add("a");
      l.add("b");
    });
    assertEquals(readsBefore, h.counting.reads.get(), "add must append without reading");
    h.flush();
    // Appended onto a list that is already in a file: the merge spans memtable and SST.
    h.run("alice", () -> l.add("c"));
    h.run("bob", () -> l.add("x"));
    assertEquals(List.of("a", "b", "c"), h.get("alice", l::get));
    assertEquals(List.of("x"), h.get("bob", l::get));

    h.run("alice", () -> l.update(List.of("p", "q")));
    assertEquals(List.of("p", "q"), h.get("alice", l::get), "update replaces");
    h.run("alice", () -> l.add("r"));
    h.flush();
    assertEquals(List.of("p", "q", "r"), h.get("alice", l::get));

    h.run("alice", () -> l.update(List.of()));
    assertEquals(List.of(), h.get("alice", l::get), "update with an empty list empties it");
    assertEquals(List.of("x"), h.get("bob", l::get));
    h.run("bob", l::clear);
    assertEquals(List.of(), h.get("bob", l::get));

    // Element framing survives empty and multi-byte elements.
    h.run("carol", () -> {
      l.add("");
      l.add("ü€😀");
      l.add("");
    });
    assertEquals(List.of("", "ü€😀", ""), h.get("carol", l::get));
  }

  // -------------------------------------------------------------------------------- MapState

  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void mapStatePutGetRemoveIterateAndClearPerKey(String kind) {
    open(kind);
    MapState<String, Long> m = h.state(
        new StateDescriptor.Map<>("m", Serdes.STRING, Serdes.LONG));

    assertTrue(h.get("alice", m::isEmpty));
    assertEquals(List.of(), h.get("alice", m::entries));

    List<String> userKeys = List.of("b", "aa", "c", "ab", "", "ba");
    h.run("alice", () -> {
      for (int i = 0; i < userKeys.size(); i++) {
        m.put(userKeys.get(i), (long) i);
      }
    });
    h.run("bob", () -> m.put("aa", 100L));
    h.flush();

    assertEquals(1L, h.get("alice", () -> m.get("aa")));
    assertNull(h.get("alice", () -> m.get("zz")));
    assertTrue(h.get("alice", () -> m.contains("aa")));
    assertTrue(h.get("alice", () -> m.contains("")), "the empty user key is a key");
    assertFalse(h.get("alice", () -> m.contains("zz")));
    assertFalse(h.get("alice", m::isEmpty));

    // Strings encode length first, so the encoded order ("" < "b" < "c" < "aa" ...) is not
    // String order: this tells the two apart.
    List<String> encodedOrder = new ArrayList<>(userKeys);
    encodedOrder.sort((x, y) -> Arrays.compareUnsigned(Serdes.STRING.toBytes(x),
        Serdes.STRING.toBytes(y)));
    List<String> naturalOrder = new ArrayList<>(userKeys);
    Collections.sort(naturalOrder);
    assertNotEquals(naturalOrder, encodedOrder);
    List<Map.Entry<String, Long>> entries = h.get("alice", m::entries);
    assertEquals(encodedOrder, entries.stream().map(Map.Entry::getKey).toList());
    for (Map.Entry<String, Long> e : entries) {
      assertEquals((long) userKeys.indexOf(e.getKey()), e.getValue(), e.getKey());
    }

    h.run("alice", () -> {
      m.remove("aa");
      m.put("b", 42L);
    });
    assertNull(h.get("alice", () -> m.get("aa")));
    assertFalse(h.get("alice", () -> m.contains("aa")));
    assertEquals(42L, h.get("alice", () -> m.get("b")), "put overwrites");
    assertEquals(5, h.get("alice", m::entries).size());
    assertEquals(100L, h.get("bob", () -> m.get("aa")), "remove touches only the current key");

    h.get("alice", m::clear);
    assertTrue(h.get("alice", m::isEmpty));
    assertEquals(List.of(), h.get("alice", m::entries));
    assertEquals(List.of(Map.entry("aa", 100L)), h.get("bob", m::entries),
        "clear touches only the current key");
  }

  /**
   * Keys whose bytes are a prefix of each other, in the same key group: only the length prefix
   * of the state key layout keeps one key's map from iterating the other's entries.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void mapsOfKeysThatArePrefixesOfEachOtherDoNotMix(String kind) {
    open(kind);
    MapState<String, Long> m = h.state(
        new StateDescriptor.Map<>("m", Serdes.STRING, Serdes.LONG));
    byte[] shortKey = {7};
    byte[] longKey = sameKeyGroupExtension(shortKey, fixture.maxParallelism());

    h.get("short", shortKey, () -> {
      m.put("x", 1L);
      return StateFuture.completed(null, h.controller);
    });
    h.get("long", longKey, () -> {
      m.put("y", 2L);
      return StateFuture.completed(null, h.controller);
    });
    h.flush();
    assertEquals(List.of(Map.entry("x", 1L)), h.get("short", shortKey, m::entries));
    assertEquals(List.of(Map.entry("y", 2L)), h.get("long", longKey, m::entries));
    h.get("short", shortKey, m::clear);
    assertEquals(List.of(Map.entry("y", 2L)), h.get("long", longKey, m::entries));
  }

  /** {@code key} plus two bytes, chosen so that both land in the same key group. */
  private static byte[] sameKeyGroupExtension(byte[] key, int maxParallelism) {
    int group = KeyGroups.keyGroupOf(key, maxParallelism);
    for (int i = 0; i < 1 << 16; i++) {
      byte[] longer = Arrays.copyOf(key, key.length + 2);
      longer[key.length] = (byte) (i >>> 8);
      longer[key.length + 1] = (byte) i;
      if (KeyGroups.keyGroupOf(longer, maxParallelism) == group) {
        return longer;
      }
    }
    throw new AssertionError("no extension of the key falls into key group " + group);
  }

  // ----------------------------------------------------------------- Reducing / Aggregating

  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void reducingStateFoldsPerKey(String kind) {
    open(kind);
    ReducingState<Long> sum = h.state(
        new StateDescriptor.Reducing<>("sum", Long::sum, Serdes.LONG));

    assertNull(h.get("alice", sum::get));
    for (long i = 1; i <= 3; i++) {
      long value = i;
      h.get("alice", () -> sum.add(value));
    }
    h.get("bob", () -> sum.add(10L));
    h.flush();
    assertEquals(6L, h.get("alice", sum::get));
    h.get("alice", () -> sum.add(4L));
    assertEquals(10L, h.get("alice", sum::get), "adds onto a value read from a file");
    assertEquals(10L, h.get("bob", sum::get));
    h.run("alice", sum::clear);
    assertNull(h.get("alice", sum::get));
    assertEquals(10L, h.get("bob", sum::get));
  }

  record Acc(long sum, long count) {}

  /** Average of longs; a static class because aggregators are copied with their function. */
  static final class Average implements Aggregator<Long, Acc, Double> {
    @Override
    public Acc createAccumulator() {
      return new Acc(0, 0);
    }

    @Override
    public Acc add(Long value, Acc acc) {
      return new Acc(acc.sum() + value, acc.count() + 1);
    }

    @Override
    public Double getResult(Acc acc) {
      return (double) acc.sum() / acc.count();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void aggregatingStateAccumulatesPerKey(String kind) {
    open(kind);
    AggregatingState<Long, Double> avg = h.state(
        new StateDescriptor.Aggregating<>("avg", new Average(), Serdes.record(Acc.class)));

    assertNull(h.get("alice", avg::get), "no accumulator, no result");
    h.get("alice", () -> avg.add(2L));
    h.get("alice", () -> avg.add(4L));
    h.get("bob", () -> avg.add(100L));
    h.flush();
    h.get("alice", () -> avg.add(9L));
    assertEquals(5.0, h.get("alice", avg::get));
    assertEquals(100.0, h.get("bob", avg::get));
    h.run("alice", avg::clear);
    assertNull(h.get("alice", avg::get));
    assertEquals(100.0, h.get("bob", avg::get));
  }

  // ---------------------------------------------------------------------------- isolation

  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void statesOfDifferentNamesAndNamespacesNeverMix(String kind) {
    open(kind);
    ValueState<Long> a = h.state(new StateDescriptor.Value<>("a", Serdes.LONG));
    ValueState<Long> b = h.state(new StateDescriptor.Value<>("b", Serdes.LONG));
    ListState<Long> list = h.state(new StateDescriptor.List<>("list", Serdes.LONG));
    MapState<Long, Long> map = h.state(new StateDescriptor.Map<>("map", Serdes.LONG,
        Serdes.LONG));
    byte[] window1 = {1};
    byte[] window2 = {2};

    h.run("alice", () -> {
      a.update(1L);
      b.update(2L);
      list.add(3L);
      map.put(4L, 5L);
      h.states.setNamespace(window1);
      a.update(11L);
      map.put(4L, 55L);
      h.states.setNamespace(window2);
      list.add(33L);
      h.states.setNamespace(new byte[0]);
    });
    h.flush();
    assertEquals(1L, h.get("alice", a::value));
    assertEquals(2L, h.get("alice", b::value));
    assertEquals(List.of(3L), h.get("alice", list::get));
    assertEquals(List.of(Map.entry(4L, 5L)), h.get("alice", map::entries));
    assertEquals(11L, inNamespace(window1, "alice", a::value));
    assertNull(inNamespace(window1, "alice", b::value));
    assertEquals(List.of(Map.entry(4L, 55L)), inNamespace(window1, "alice", map::entries));
    assertEquals(List.of(33L), inNamespace(window2, "alice", list::get));
    assertNull(inNamespace(window2, "alice", a::value));

    h.run("alice", a::clear);
    h.get("alice", map::clear);
    assertNull(h.get("alice", a::value));
    assertEquals(2L, h.get("alice", b::value), "clearing one state leaves the others");
    assertEquals(List.of(3L), h.get("alice", list::get));
    assertEquals(11L, inNamespace(window1, "alice", a::value), "and other namespaces");
    assertEquals(List.of(Map.entry(4L, 55L)), inNamespace(window1, "alice", map::entries));
  }

  private <T> T inNamespace(byte[] namespace, String key,
      java.util.function.Supplier<StateFuture<T>> access) {
    return h.get(key, () -> {
      h.states.setNamespace(namespace);
      try {
        return access.get();
      } finally {
        h.states.setNamespace(new byte[0]);
      }
    });
  }

  @Test
  void twoStateNamesWithTheSameIdAreRejectedNamingBoth() {
    Map<Integer, String> seen = new HashMap<>();
    String first = null;
    String second = null;
    for (int i = 0; second == null; i++) {
      String name = "state-" + i;
      String other = seen.putIfAbsent(StateKeys.stateId(name), name);
      if (other != null) {
        first = other;
        second = name;
      }
    }
    KeyedStateStore states = new KeyedStateStore(new HeapBackend(null, "s",
        KeyGroupRange.all(128), 128), null, () -> 0);
    states.state(new StateDescriptor.Value<>(first, Serdes.LONG));
    String secondName = second;
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> states.state(new StateDescriptor.Value<>(secondName, Serdes.LONG)));
    assertTrue(e.getMessage().contains(first) && e.getMessage().contains(second),
        e.getMessage());
  }

  // ------------------------------------------------------------------------- continuations

  /**
   * Records of several keys in flight at once, each chaining reads of two states: every
   * continuation runs on the task thread with its own record's key current, and sees its key's
   * values.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void continuationsRunOnTheTaskThreadWithTheirRecordsKey(String kind) {
    open(kind);
    ValueState<Long> v = h.state(new StateDescriptor.Value<>("v", Serdes.LONG));
    ListState<String> l = h.state(new StateDescriptor.List<>("l", Serdes.STRING));
    int keys = 20;
    for (int k = 0; k < keys; k++) {
      long value = k;
      h.run("key-" + k, () -> {
        v.update(value);
        l.add("item-" + value);
      });
    }
    h.flush();

    List<String> problems = Collections.synchronizedList(new ArrayList<>());
    Map<String, String> results = new java.util.concurrent.ConcurrentHashMap<>();
    await(await(h.onTaskThread(() -> {
      for (int round = 0; round < 3; round++) {
        for (int k = 0; k < keys; k++) {
          String key = "key-" + k;
          byte[] keyBytes = Serdes.STRING.toBytes(key);
          h.controller.submit(new RecordContext(key, key, keyBytes, h.keyGroupOf(key),
              Long.MIN_VALUE, () -> v.value().thenCompose(x -> {
                check(key, problems);
                return l.get().thenApply(list -> {
                  check(key, problems);
                  return x + ":" + list;
                });
              }).thenAccept(r -> {
                check(key, problems);
                results.put(key, r);
              })));
        }
      }
      return h.controller.whenDrained();
    })));
    assertEquals(List.of(), problems);
    for (int k = 0; k < keys; k++) {
      assertEquals(k + ":[item-" + k + "]", results.get("key-" + k));
    }
    assertEquals(0, h.controller.inFlight());
  }

  private void check(String key, List<String> problems) {
    if (!h.inTaskThread()) {
      problems.add(key + ": continuation on " + Thread.currentThread().getName());
    }
    RecordContext current = h.controller.currentContext();
    if (current == null || !key.equals(current.key())) {
      problems.add(key + ": continuation ran with context " + current);
    }
  }

  // ------------------------------------------------------------------- reads before writes

  /**
   * A record may issue a read and write the same state before the read completes (it need not
   * chain the write on the read). Reads that write back (TTL refresh, dropping expired list
   * elements) and MapState.clear (scan, then delete what it found) must not undo such a write,
   * on any backend: with the disaggregated one the read completes later, after the write.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void aWriteIssuedAfterAReadIsNotUndoneByTheRead(String kind) {
    open(kind);
    ValueState<String> value = h.state(ttl(new StateDescriptor.Value<>("v", Serdes.STRING),
        1000, StateTtlConfig.UpdateType.ON_READ_AND_WRITE));
    ListState<String> list = h.state(ttl(new StateDescriptor.List<>("l", Serdes.STRING), 100,
        StateTtlConfig.UpdateType.ON_CREATE_AND_WRITE));
    MapState<String, Long> refreshed = h.state(ttl(new StateDescriptor.Map<>("rm",
        Serdes.STRING, Serdes.LONG), 1000, StateTtlConfig.UpdateType.ON_READ_AND_WRITE));
    MapState<String, Long> map = h.state(new StateDescriptor.Map<>("m", Serdes.STRING,
        Serdes.LONG));
    h.run("alice", () -> {
      value.update("old");
      list.add("expires");
      refreshed.put("a", 0L);
      map.put("a", 0L);
      map.put("b", 0L);
    });
    at(T0 + 50);
    h.run("alice", () -> list.add("stays"));
    h.flush(); // reads now go to a file (asynchronously, on the disaggregated backend)
    at(T0 + 120);

    h.run("alice", () -> {
      value.value();
      value.update("new");
      list.get();
      list.add("added");
      refreshed.get("a");
      refreshed.put("a", 1L);
      map.clear();
      map.put("a", 1L);
    });
    assertEquals(List.of("new", List.of("stays", "added"), 1L, List.of(Map.entry("a", 1L))),
        List.of(h.get("alice", value::value), h.get("alice", list::get),
            h.get("alice", () -> refreshed.get("a")), h.get("alice", map::entries)),
        "value refresh, list cleanup, map entry refresh, map clear");
  }

  /** Two adds in one record without chaining on the first: both must count, on any backend. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void addsOfOneRecordFoldInOrder(String kind) {
    open(kind);
    ReducingState<Long> sum = h.state(
        new StateDescriptor.Reducing<>("sum", Long::sum, Serdes.LONG));
    AggregatingState<Long, Double> avg = h.state(
        new StateDescriptor.Aggregating<>("avg", new Average(), Serdes.record(Acc.class)));
    h.get("alice", () -> sum.add(1L));
    h.get("alice", () -> avg.add(1L));
    h.flush();
    h.run("alice", () -> {
      sum.add(10L);
      sum.add(100L);
      avg.add(4L);
      avg.add(10L);
    });
    // Losing an add shows: 1 + 100 or 1 + 10, and (1 + 10) / 2 or (1 + 4) / 2.
    assertEquals(List.of(111L, 5.0), List.of(h.get("alice", sum::get),
        h.get("alice", avg::get)));
  }

  // ------------------------------------------------------------------------------------- TTL

  private static <S> StateDescriptor<S> ttl(StateDescriptor<S> d, long millis,
      StateTtlConfig.UpdateType update) {
    d.enableTimeToLive(new StateTtlConfig(Duration.ofMillis(millis), update));
    return d;
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("kindsAndUpdateTypes")
  void expiredValuesAreInvisibleAtOnce(String kind, StateTtlConfig.UpdateType update) {
    open(kind);
    boolean readRefreshes = update == StateTtlConfig.UpdateType.ON_READ_AND_WRITE;
    ValueState<String> v = h.state(ttl(new StateDescriptor.Value<>("v", Serdes.STRING), 100,
        update));

    h.run("alice", () -> v.update("a"));
    h.run("bob", () -> v.update("b"));
    h.flush();
    at(T0 + 60);
    assertEquals("a", h.get("alice", v::value));
    at(T0 + 100);
    assertNull(h.get("bob", v::value), "bob's value expired at t0+100 and was never read");
    if (readRefreshes) {
      assertEquals("a", h.get("alice", v::value), "the read at t0+60 extended it to t0+160");
      at(T0 + 199);
      assertEquals("a", h.get("alice", v::value), "the read at t0+100 extended it to t0+200");
      at(T0 + 299);
      assertNull(h.get("alice", v::value), "unread for a full TTL since t0+199");
    } else {
      assertNull(h.get("alice", v::value), "a read does not extend it");
    }

    // Every write restarts the clock.
    at(T0 + 1000);
    h.run("alice", () -> v.update("c"));
    at(T0 + 1080);
    h.run("alice", () -> v.update("d"));
    h.flush();
    at(T0 + 1150);
    assertEquals("d", h.get("alice", v::value));
    at(T0 + 1180);
    if (readRefreshes) {
      assertEquals("d", h.get("alice", v::value), "read at t0+1150 extended it to t0+1250");
      at(T0 + 1280); // this read extended it to t0+1280
    }
    assertNull(h.get("alice", v::value));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("kindsAndUpdateTypes")
  void listElementsExpireOneByOne(String kind, StateTtlConfig.UpdateType update) {
    open(kind);
    boolean readRefreshes = update == StateTtlConfig.UpdateType.ON_READ_AND_WRITE;
    ListState<String> l = h.state(ttl(new StateDescriptor.List<>("l", Serdes.STRING), 100,
        update));

    h.run("alice", () -> l.add("a"));
    at(T0 + 50);
    h.run("alice", () -> l.add("b"));
    h.flush();
    at(T0 + 99);
    assertEquals(List.of("a", "b"), h.get("alice", l::get));
    at(T0 + 100);
    if (readRefreshes) {
      // The read at t0+99 gave both elements until t0+199.
      assertEquals(List.of("a", "b"), h.get("alice", l::get));
      at(T0 + 300);
    } else {
      assertEquals(List.of("b"), h.get("alice", l::get), "a expired, b not yet");
      at(T0 + 150);
    }
    assertEquals(List.of(), h.get("alice", l::get));

    // Elements of update() expire too; a later add lives on its own clock.
    at(T0 + 1000);
    h.run("alice", () -> l.update(List.of("x", "y")));
    at(T0 + 1070);
    h.run("alice", () -> l.add("z"));
    at(T0 + 1100);
    assertEquals(List.of("z"), h.get("alice", l::get));
    at(T0 + 1170);
    if (readRefreshes) {
      assertEquals(List.of("z"), h.get("alice", l::get), "read at t0+1100 extended z");
      at(T0 + 1270);
    }
    assertEquals(List.of(), h.get("alice", l::get));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("kindsAndUpdateTypes")
  void mapEntriesExpireOneByOne(String kind, StateTtlConfig.UpdateType update) {
    open(kind);
    boolean readRefreshes = update == StateTtlConfig.UpdateType.ON_READ_AND_WRITE;
    MapState<String, Long> m = h.state(ttl(new StateDescriptor.Map<>("m", Serdes.STRING,
        Serdes.LONG), 100, update));

    h.run("alice", () -> m.put("k1", 1L));
    at(T0 + 50);
    h.run("alice", () -> m.put("k2", 2L));
    h.flush();
    at(T0 + 60);
    assertEquals(1L, h.get("alice", () -> m.get("k1")));
    at(T0 + 100);
    // entries() hides expired entries but does not count as a read of them.
    if (readRefreshes) {
      assertEquals(List.of("k1", "k2"), keys(h.get("alice", m::entries)),
          "the get at t0+60 extended k1 to t0+160");
      assertTrue(h.get("alice", () -> m.contains("k1")), "and this read to t0+200");
    } else {
      assertEquals(List.of("k2"), keys(h.get("alice", m::entries)));
      assertNull(h.get("alice", () -> m.get("k1")));
      assertFalse(h.get("alice", () -> m.contains("k1")));
    }
    at(T0 + 150);
    if (readRefreshes) {
      assertEquals(List.of("k1"), keys(h.get("alice", m::entries)), "k2 expired at t0+150");
      at(T0 + 200);
    }
    assertTrue(h.get("alice", m::isEmpty));
    assertEquals(List.of(), h.get("alice", m::entries));
  }

  private static List<String> keys(List<Map.Entry<String, Long>> entries) {
    return entries.stream().map(Map.Entry::getKey).toList();
  }

  private void at(long millis) {
    h.clock.set(millis);
  }

  /**
   * Expired values are removed physically by the disaggregated store's compaction, not only
   * hidden. The compaction filter judges expiry by the wall clock, so the values are written
   * with the state clock ten minutes back and a one-minute TTL.
   */
  @Test
  void compactionRemovesExpiredValuesOfTheDisaggregatedBackend() {
    // A large memtable keeps everything in memory until the test flushes, so that the "before"
    // picture is complete; two overlapping flushes then make a level-0 compaction due. Files
    // of 16 KiB make each flush a large level-0 file, which goes to level 1 (the bottom, where
    // expired values are dropped) instead of being merged with other small ones first.
    long wallNow = System.currentTimeMillis();
    open(DisaggregatedBackend.KIND, StoreOptions.small().withMemtableBytes(8 << 20)
        .withTargetFileBytes(16 << 10), wallNow - Duration.ofMinutes(10).toMillis());
    StateStore store = ((DisaggregatedBackend) h.backend).store();
    ValueState<Long> shortLived = h.state(ttl(new StateDescriptor.Value<>("short",
        Serdes.LONG), Duration.ofMinutes(1).toMillis(),
        StateTtlConfig.UpdateType.ON_CREATE_AND_WRITE));
    MapState<Long, Long> shortMap = h.state(ttl(new StateDescriptor.Map<>("short-map",
        Serdes.LONG, Serdes.LONG), Duration.ofMinutes(1).toMillis(),
        StateTtlConfig.UpdateType.ON_CREATE_AND_WRITE));
    ValueState<Long> longLived = h.state(ttl(new StateDescriptor.Value<>("long", Serdes.LONG),
        Duration.ofDays(1).toMillis(), StateTtlConfig.UpdateType.ON_CREATE_AND_WRITE));
    ValueState<Long> plain = h.state(new StateDescriptor.Value<>("plain", Serdes.LONG));
    int keys = 500;
    for (int k = 0; k < keys; k++) {
      long value = k;
      h.run("key-" + k, () -> {
        shortLived.update(value);
        shortMap.put(value, value);
        shortMap.put(value + 1, value);
        longLived.update(value);
        plain.update(value);
      });
    }
    Map<String, Integer> written = Map.of("short", keys, "short-map", 2 * keys, "long", keys,
        "plain", keys);
    assertEquals(written, countByState(h.rawEntries()));
    h.flush();
    assertEquals(written, countByState(h.rawEntries()), "a flush alone keeps every value");

    // Level-0 files that overlap each other and level 1 make compaction merge (a trivial move
    // would not look at the values): overwrite the plain values of all keys and flush, until a
    // merging compaction has run.
    for (int round = 1; merges(store) == 0; round++) {
      assertTrue(round <= 5, "no merging compaction after 5 flushes: " + store.metrics());
      for (int k = 0; k < keys; k++) {
        long value = k + 1000L * round;
        h.run("key-" + k, () -> plain.update(value));
      }
      h.flush();
      await(store.awaitCompactions());
    }
    assertEquals(Map.of("long", keys, "plain", keys), countByState(h.rawEntries()),
        "compaction must drop exactly the expired values");

    // The typed view agrees once the state clock reaches the wall clock.
    h.clock.set(wallNow);
    assertNull(h.get("key-7", shortLived::value));
    assertTrue(h.get("key-7", shortMap::isEmpty));
    assertEquals(7L, h.get("key-7", longLived::value));
    assertTrue(h.get("key-7", plain::value) >= 1007L);
  }

  private static long merges(StateStore store) {
    return store.metrics().compactions() - store.metrics().trivialMoves();
  }

  /** Raw entries per state name, read from the state id in each key. */
  private static Map<String, Integer> countByState(List<KeyValue> entries) {
    Map<Integer, String> names = new HashMap<>();
    for (String n : List.of("short", "short-map", "long", "plain")) {
      names.put(StateKeys.stateId(n), n);
    }
    Map<String, Integer> counts = new HashMap<>();
    for (KeyValue kv : entries) {
      int id = new BytesIn(kv.key(), 2, kv.key().length).readVarInt();
      counts.merge(names.getOrDefault(id, "id " + id), 1, Integer::sum);
    }
    return counts;
  }

  // ---------------------------------------------------------------------- snapshot / restore

  /**
   * Snapshot, then restore through the factory: the whole range gives back every value (and
   * none written after the snapshot call); half the key groups give back exactly the keys of
   * those groups; the two halves, snapshotted again, merge back into one (scale-in).
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void snapshotRestoresTheWholeRangeOrAPartOfIt(String kind) {
    open(kind);
    StateDescriptor.Value<Long> valueD = new StateDescriptor.Value<>("v", Serdes.LONG);
    StateDescriptor.List<String> listD = new StateDescriptor.List<>("l", Serdes.STRING);
    StateDescriptor.Map<String, Long> mapD =
        new StateDescriptor.Map<>("m", Serdes.STRING, Serdes.LONG);
    int keys = 200;
    int entriesPerKey = 4; // value, list, two map entries
    write(h, valueD, listD, mapD, 0, keys / 2);
    h.flush(); // some state in files, some in the memtable
    write(h, valueD, listD, mapD, keys / 2, keys);

    CompletableFuture<StateHandle> snapshot = await(h.onTaskThread(h.backend::snapshot));
    ValueState<Long> v = h.state(valueD);
    h.run("key-0", () -> v.update(-1L));
    h.run("late", () -> v.update(7L));
    StateHandle handle = await(snapshot);
    assertEquals(kind, handle.kind());

    int all = fixture.maxParallelism();
    StateHarness whole = harness(fixture.restore("whole", KeyGroupRange.all(all),
        List.of(handle)), T0);
    verify(whole, valueD, listD, mapD, keys, KeyGroupRange.all(all));
    assertNull(whole.get("late", whole.state(valueD)::value), "written after the snapshot");
    assertEquals(keys * entriesPerKey, whole.rawEntries().size());

    KeyGroupRange low = KeyGroupRange.of(0, all / 2 - 1);
    KeyGroupRange high = KeyGroupRange.of(all / 2, all - 1);
    List<StateHandle> halves = new ArrayList<>();
    int keysSeen = 0;
    for (KeyGroupRange range : List.of(low, high)) {
      StateHarness half = harness(fixture.restore("half-" + range.start(), range,
          List.of(handle)), T0);
      int inRange = verify(half, valueD, listD, mapD, keys, range);
      assertTrue(inRange > 0 && inRange < keys, "keys split unevenly: " + inRange);
      keysSeen += inRange;
      List<KeyValue> raw = half.rawEntries();
      assertEquals(inRange * entriesPerKey, raw.size(), "entries of other key groups visible");
      for (KeyValue kv : raw) {
        assertTrue(range.containsKey(kv.key()), "key group "
            + KeyGroups.keyGroupOfStateKey(kv.key()) + " outside " + range);
      }
      halves.add(await(await(half.onTaskThread(half.backend::snapshot))));
    }
    assertEquals(keys, keysSeen);

    StateHarness merged = harness(fixture.restore("merged", KeyGroupRange.all(all), halves),
        T0);
    verify(merged, valueD, listD, mapD, keys, KeyGroupRange.all(all));
    assertEquals(keys * entriesPerKey, merged.rawEntries().size());
  }

  private static void write(StateHarness h, StateDescriptor.Value<Long> valueD,
      StateDescriptor.List<String> listD, StateDescriptor.Map<String, Long> mapD, int from,
      int to) {
    ValueState<Long> v = h.state(valueD);
    ListState<String> l = h.state(listD);
    MapState<String, Long> m = h.state(mapD);
    for (int k = from; k < to; k++) {
      long value = k;
      h.run("key-" + k, () -> {
        v.update(value);
        l.add("first-" + value);
        l.add("second-" + value);
        m.put("a", value);
        m.put("b", -value);
      });
    }
  }

  /** Checks every key of {@code range} through the typed state; returns how many there are. */
  private static int verify(StateHarness h, StateDescriptor.Value<Long> valueD,
      StateDescriptor.List<String> listD, StateDescriptor.Map<String, Long> mapD, int keys,
      KeyGroupRange range) {
    ValueState<Long> v = h.state(valueD);
    ListState<String> l = h.state(listD);
    MapState<String, Long> m = h.state(mapD);
    int inRange = 0;
    for (int k = 0; k < keys; k++) {
      String key = "key-" + k;
      if (!range.contains(h.keyGroupOf(key))) {
        continue;
      }
      inRange++;
      long value = k;
      assertEquals(value, h.get(key, v::value), key);
      assertEquals(List.of("first-" + k, "second-" + k), h.get(key, l::get), key);
      assertEquals(List.of(Map.entry("a", value), Map.entry("b", -value)),
          h.get(key, m::entries), key);
    }
    return inRange;
  }
}
