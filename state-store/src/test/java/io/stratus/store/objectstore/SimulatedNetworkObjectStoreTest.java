package io.stratus.store.objectstore;

import static io.stratus.store.objectstore.Await.failure;
import static io.stratus.store.objectstore.Await.join;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The simulated bucket over a real local directory: delays are at least what the model says
 * (only lower bounds are asserted, the machine is shared), faults hit exactly the requests they
 * target, and the counters add up.
 */
class SimulatedNetworkObjectStoreTest {

  private static final long LATENCY_MS = 60;

  @TempDir
  Path dir;

  private LocalDirectoryObjectStore local;
  private SimulatedNetworkObjectStore store;

  @BeforeEach
  void open() {
    local = new LocalDirectoryObjectStore(dir.resolve("bucket"));
    store = new SimulatedNetworkObjectStore(local, NetworkModel.none());
  }

  @AfterEach
  void close() {
    store.close();
    local.close();
  }

  private static long elapsedMillis(Supplier<CompletableFuture<?>> operation) {
    long start = System.nanoTime();
    join(operation.get());
    return (System.nanoTime() - start) / 1_000_000;
  }

  @Test
  void everyOperationWaitsAtLeastTheFirstByteLatency() {
    join(local.put("k", new byte[100]));
    store.setModel(NetworkModel.latency(Duration.ofMillis(LATENCY_MS)));
    List<Supplier<CompletableFuture<?>>> operations = List.of(
        () -> store.get("k"), () -> store.getRange("k", 10, 20), () -> store.put("p", new byte[5]),
        () -> store.putIfAbsent("q", new byte[5]), () -> store.head("k"), () -> store.list(""),
        () -> store.delete(List.of("p")));
    for (int i = 0; i < operations.size(); i++) {
      long ms = elapsedMillis(operations.get(i));
      assertTrue(ms >= LATENCY_MS, "operation " + i + " took " + ms + " ms");
    }
  }

  @Test
  void transferTimeGrowsWithThePayload() {
    byte[] data = new byte[200_000];
    // 1 MB/s: 200 kB take at least 200 ms each way, on top of 10 ms to first byte.
    store.setModel(new NetworkModel(Duration.ofMillis(10), 1_000_000));
    long put = elapsedMillis(() -> store.put("big", data));
    assertTrue(put >= 210, "put took " + put + " ms");
    long get = elapsedMillis(() -> store.get("big"));
    assertTrue(get >= 210, "get took " + get + " ms");
    long range = elapsedMillis(() -> store.getRange("big", 0, 100_000));
    assertTrue(range >= 110, "ranged get took " + range + " ms");
  }

  @Test
  void concurrentRequestsEachWaitTheirOwnLatency() {
    join(local.put("k", new byte[10]));
    store.setModel(NetworkModel.latency(Duration.ofMillis(LATENCY_MS)));
    List<CompletableFuture<byte[]>> gets = new ArrayList<>();
    List<Long> finished = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      long start = System.nanoTime();
      gets.add(store.get("k").whenComplete((v, e) -> {
        synchronized (finished) {
          finished.add(System.nanoTime() - start);
        }
      }));
    }
    join(CompletableFuture.allOf(gets.toArray(CompletableFuture[]::new)));
    synchronized (finished) {
      assertEquals(200, finished.size());
      for (long nanos : finished) {
        assertTrue(nanos >= LATENCY_MS * 1_000_000, "a request took " + nanos / 1e6 + " ms");
      }
    }
  }

  @Test
  void modelCanChangeWhileRunning() {
    join(local.put("k", new byte[10]));
    assertArrayEquals(new byte[10], join(store.get("k")));
    store.setModel(NetworkModel.latency(Duration.ofMillis(150)));
    long ms = elapsedMillis(() -> store.head("k"));
    assertTrue(ms >= 150, "head took " + ms + " ms");
  }

  @Test
  void failingInjectorHitsOnlyItsOperationAndKeys() {
    join(local.put("bad/1", new byte[] {1}));
    join(local.put("good/1", new byte[] {2}));
    store.setFaults(FaultInjector.failing(k -> k.startsWith("bad/"), FaultInjector.Operation.GET,
        "disk on fire"));
    ObjectStoreException e = failure(ObjectStoreException.class, store.get("bad/1"));
    assertTrue(e.getMessage().contains("bad/1") && e.getMessage().contains("disk on fire"),
        e.getMessage());
    failure(ObjectStoreException.class, store.getRange("bad/1", 0, 1));
    assertArrayEquals(new byte[] {2}, join(store.get("good/1")));
    assertEquals(1, join(store.head("bad/1")).orElseThrow().size());
    join(store.put("bad/2", new byte[] {3}));
    assertArrayEquals(new byte[] {3}, join(local.get("bad/2")));

    store.setFaults(FaultInjector.NONE);
    assertArrayEquals(new byte[] {1}, join(store.get("bad/1")));
  }

  @Test
  void deniedWritesFailWithAccessDeniedAndWriteNothing() {
    store.setFaults(FaultInjector.denyWrites(k -> k.startsWith("ro/")));
    failure(AccessDeniedException.class, store.put("ro/x", new byte[] {1}));
    failure(AccessDeniedException.class, store.putIfAbsent("ro/y", new byte[] {1}));
    assertEquals(Optional.empty(), join(local.head("ro/x")));
    assertEquals(Optional.empty(), join(local.head("ro/y")));
    assertTrue(join(store.putIfAbsent("rw/y", new byte[] {1})));
    assertEquals(List.of("rw/y"), join(store.list("")).stream().map(ObjectInfo::key).toList());
  }

  @Test
  void faultsAreDelayedLikeAnswers() {
    store.setModel(NetworkModel.latency(Duration.ofMillis(LATENCY_MS)));
    store.setFaults(FaultInjector.failing(k -> true, FaultInjector.Operation.HEAD, "x"));
    long start = System.nanoTime();
    failure(ObjectStoreException.class, store.head("k"));
    long ms = (System.nanoTime() - start) / 1_000_000;
    assertTrue(ms >= LATENCY_MS, "the fault came after " + ms + " ms");
  }

  @Test
  void everyNthFailsExactlyEveryNthRequest() {
    join(local.put("k", new byte[1]));
    store.setFaults(FaultInjector.everyNth(3));
    StringBuilder outcome = new StringBuilder();
    for (int i = 0; i < 9; i++) {
      outcome.append(store.head("k").handle((v, e) -> e == null ? "." : "X").join());
    }
    assertEquals("..X..X..X", outcome.toString());
  }

  @Test
  void randomInjectorIsReproducibleForASeed() {
    FaultInjector a = FaultInjector.random(0.3, 42);
    FaultInjector b = FaultInjector.random(0.3, 42);
    int faults = 0;
    for (int i = 0; i < 1000; i++) {
      boolean fa = a.faultFor(FaultInjector.Operation.GET, "k" + i) != null;
      boolean fb = b.faultFor(FaultInjector.Operation.GET, "k" + i) != null;
      assertEquals(fa, fb, "request " + i);
      faults += fa ? 1 : 0;
    }
    assertTrue(faults > 200 && faults < 400, faults + " faults of 1000 at p=0.3");
    FaultInjector never = FaultInjector.random(0, 1);
    FaultInjector always = FaultInjector.random(1, 1);
    for (int i = 0; i < 100; i++) {
      assertEquals(null, never.faultFor(FaultInjector.Operation.PUT, "k"));
      assertTrue(always.faultFor(FaultInjector.Operation.PUT, "k") instanceof ObjectStoreException);
    }
  }

  @Test
  void countersAddUpRequestsAndPayloadBytes() {
    join(store.put("a", new byte[1000]));
    join(store.putIfAbsent("b", new byte[300]));
    join(store.get("a"));
    join(store.getRange("a", 100, 50));
    join(store.head("a"));
    join(store.list(""));
    join(store.delete(List.of("b")));
    assertEquals(7, store.requestCount());
    assertEquals(1300, store.bytesWritten());
    assertEquals(1050, store.bytesRead());

    // Failed requests are requests too.
    store.setFaults(FaultInjector.failing(k -> true, FaultInjector.Operation.LIST, "down"));
    failure(ObjectStoreException.class, store.list(""));
    assertEquals(8, store.requestCount());
  }

  @Test
  void closingStopsTheTimerButNotTheWrappedStore() {
    store.setModel(NetworkModel.latency(Duration.ofMillis(5)));
    join(store.put("k", new byte[] {7}));
    store.close();
    assertArrayEquals(new byte[] {7}, join(local.get("k")));
    // Requests after close are answered without the delay rather than hanging.
    assertArrayEquals(new byte[] {7}, join(store.get("k")));
    assertTrue(store.location().startsWith(local.location()), store.location());
  }

  @Test
  void networkModelRejectsNegativeValues() {
    assertThrows(IllegalArgumentException.class,
        () -> new NetworkModel(Duration.ofMillis(-1), 0));
    assertThrows(IllegalArgumentException.class, () -> new NetworkModel(Duration.ZERO, -1));
    assertEquals(15_000_000L + 10_000_000L,
        new NetworkModel(Duration.ofMillis(15), 100_000_000).delayNanos(1_000_000));
  }
}
