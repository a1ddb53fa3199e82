package io.stratus.scheduler.lease;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.stratus.store.objectstore.FaultInjector;
import io.stratus.store.objectstore.ForwardingObjectStore;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.NetworkModel;
import io.stratus.store.objectstore.ObjectStore;
import io.stratus.store.objectstore.ObjectStoreException;
import io.stratus.store.objectstore.SimulatedNetworkObjectStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The coordinator's lease on a bucket prefix, over a local directory. */
class CoordinatorLeaseTest {

  private static final LeaseConfig FAST = new LeaseConfig(Duration.ofMillis(900),
      Duration.ofMillis(150));
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;

  private LocalDirectoryObjectStore objects;
  private final List<CoordinatorLease> held = new ArrayList<>();

  @BeforeEach
  void open() {
    objects = new LocalDirectoryObjectStore(dir.resolve("bucket"));
  }

  @AfterEach
  void close() {
    held.forEach(CoordinatorLease::close);
    objects.close();
  }

  private CoordinatorLease acquire(ObjectStore store, LeaseConfig config, String role) {
    CoordinatorLease lease = CoordinatorLease.acquire(store, config,
        LeaseHolder.thisProcess(role)).orTimeout(30, TimeUnit.SECONDS).join();
    held.add(lease);
    return lease;
  }

  private static Throwable failure(CompletableFuture<?> future) {
    try {
      future.orTimeout(30, TimeUnit.SECONDS).join();
    } catch (CompletionException e) {
      return e.getCause();
    }
    throw new AssertionError("expected a failure, got " + future.join());
  }

  /** Writes a lease as another process would have left it. */
  private void leaveLease(LeaseHolder holder, long epoch, long renewedAt, long ttlMillis,
      boolean released) throws Exception {
    CoordinatorLease.Lease lease = new CoordinatorLease.Lease(1, holder, epoch, renewedAt,
        renewedAt, ttlMillis, 7, released);
    objects.put(CoordinatorLease.KEY, JSON.writeValueAsBytes(lease)).join();
  }

  private static LeaseHolder onThisMachineWithPid(long pid) {
    LeaseHolder me = LeaseHolder.thisProcess("x");
    return new LeaseHolder("someone-else", pid, me.host(), me.bootId(), me.pidNamespace(), 0,
        "stratus demo");
  }

  @Test
  void aSecondHolderIsRefusedNamingTheFirst() {
    CoordinatorLease first = acquire(objects, FAST, "stratus demo, REST API http://x:1");
    assertEquals(1, first.epoch());
    Throwable refused = failure(CoordinatorLease.acquire(objects, FAST,
        LeaseHolder.thisProcess("second")));
    LeaseHeldException held = assertInstanceOf(LeaseHeldException.class, refused);
    String message = held.getMessage();
    assertTrue(message.contains("pid " + ProcessHandle.current().pid()), message);
    assertTrue(message.contains(first.holder().host()), message);
    assertTrue(message.contains("stratus demo, REST API http://x:1"), message);
    assertTrue(message.contains(objects.location()), message);
    assertEquals(first.holder(), held.holder());
    // The refused contender changed nothing: the holder renews on.
    await().during(Duration.ofMillis(600)).atMost(Duration.ofSeconds(5))
        .until(() -> !first.lost().isDone());
  }

  @Test
  void aClosedLeaseIsTakenAtOnceAtTheNextEpoch() {
    CoordinatorLease first = acquire(objects, FAST, "first");
    first.close();
    assertEquals("the lease was released", first.lost().join());
    // Long ttl: only the release lets the second in without waiting.
    CoordinatorLease second = acquire(objects, LeaseConfig.defaults(), "second");
    assertEquals(2, second.epoch());
    second.close();
    assertEquals(3, acquire(objects, FAST, "third").epoch());
  }

  @Test
  void aHolderWhoseProcessIsGoneFromThisMachineIsReplacedAtOnce() throws Exception {
    Process exited = new ProcessBuilder("true").start();
    exited.waitFor();
    leaveLease(onThisMachineWithPid(exited.pid()), 4, System.currentTimeMillis(),
        Duration.ofMinutes(10).toMillis(), false);
    assertEquals(5, acquire(objects, FAST, "next").epoch());
  }

  @Test
  void aHolderInAnotherPidNamespaceIsNotTakenForGone() throws Exception {
    Process exited = new ProcessBuilder("true").start();
    exited.waitFor();
    LeaseHolder me = LeaseHolder.thisProcess("x");
    // Another container on this machine: same boot id and host name, its own pid numbers.
    leaveLease(new LeaseHolder("container", exited.pid(), me.host(), me.bootId(),
        "pid:[1]", 0, "stratus demo"), 4, System.currentTimeMillis(), 60_000, false);
    Throwable refused = failure(CoordinatorLease.acquire(objects, FAST,
        LeaseHolder.thisProcess("contender")));
    assertInstanceOf(LeaseHeldException.class, refused);
  }

  @Test
  void aLiveProcessOnThisMachineKeepsItsLeaseEvenIfItLooksExpired() throws Exception {
    Process alive = new ProcessBuilder("sleep", "60").start();
    try {
      leaveLease(onThisMachineWithPid(alive.pid()), 2, System.currentTimeMillis(), 60_000,
          false);
      Throwable refused = failure(CoordinatorLease.acquire(objects, FAST,
          LeaseHolder.thisProcess("contender")));
      assertTrue(refused.getMessage().contains("pid " + alive.pid()), refused.getMessage());
    } finally {
      alive.destroyForcibly();
    }
  }

  @Test
  void anExpiredLeaseOfAnotherHostIsTakenOnlyAfterItStaysUnchangedForItsTtl()
      throws Exception {
    LeaseHolder elsewhere = new LeaseHolder("other", 99, "other-host", "boot-x", "ns", 0,
        "coord");
    leaveLease(elsewhere, 3, System.currentTimeMillis() - 60_000, 700, false);
    long start = System.nanoTime();
    CoordinatorLease taken = acquire(objects, FAST, "contender");
    assertEquals(4, taken.epoch());
    assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(700),
        "taken over before the holder's ttl had passed unchanged");
  }

  @Test
  void aHolderThatRenewsWhileWatchedKeepsItsLease() throws Exception {
    LeaseHolder elsewhere = new LeaseHolder("other", 99, "other-host", "boot-x", "ns", 0,
        "coord");
    // Its clock is behind: by ours its lease looks expired, yet it still renews.
    long skew = 120_000;
    leaveLease(elsewhere, 3, System.currentTimeMillis() - skew, 1_000, false);
    CompletableFuture<CoordinatorLease> contender = CoordinatorLease.acquire(objects, FAST,
        LeaseHolder.thisProcess("contender"));
    // It renews with its clock still behind: the change alone says it is alive.
    for (int i = 1; i <= 20 && !contender.isDone(); i++) {
      Thread.sleep(200);
      leaveLease(elsewhere, 3, System.currentTimeMillis() - skew, 1_000, false);
    }
    Throwable refused = failure(contender);
    assertInstanceOf(LeaseHeldException.class, refused);
    assertTrue(refused.getMessage().contains("other-host")
        && refused.getMessage().contains("renews its lease"), refused.getMessage());
  }

  @Test
  void racingContendersOnAnEmptyPrefixHaveExactlyOneWinner() throws Exception {
    int contenders = 6;
    ExecutorService pool = Executors.newFixedThreadPool(contenders);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Object>> results = new ArrayList<>();
      for (int i = 0; i < contenders; i++) {
        String role = "contender " + i;
        results.add(pool.submit(() -> {
          go.await();
          try {
            return acquireQuietly(role);
          } catch (CompletionException e) {
            return e.getCause();
          }
        }));
      }
      go.countDown();
      int winners = 0;
      for (Future<Object> r : results) {
        Object outcome = r.get(30, TimeUnit.SECONDS);
        if (outcome instanceof CoordinatorLease lease) {
          winners++;
          assertEquals(1, lease.epoch());
        } else {
          assertInstanceOf(LeaseHeldException.class, outcome);
        }
      }
      assertEquals(1, winners);
    } finally {
      pool.shutdownNow();
    }
  }

  private Object acquireQuietly(String role) {
    CoordinatorLease lease = CoordinatorLease.acquire(objects, FAST,
        LeaseHolder.thisProcess(role)).orTimeout(30, TimeUnit.SECONDS).join();
    synchronized (held) {
      held.add(lease);
    }
    return lease;
  }

  @Test
  void aHolderWhoseLeaseIsTakenOverStepsDown() throws Exception {
    CoordinatorLease first = acquire(objects, FAST, "first");
    LeaseHolder usurper = new LeaseHolder("usurper", 7, "other-host", "boot-y", "ns", 0,
        "usurper");
    leaveLease(usurper, first.epoch() + 1, System.currentTimeMillis(), 900, false);
    String reason = first.lost().orTimeout(10, TimeUnit.SECONDS).join();
    assertTrue(reason.contains("taken over") && reason.contains("other-host"), reason);
    first.close();
    assertTrue(new String(objects.get(CoordinatorLease.KEY).join(), StandardCharsets.UTF_8)
        .contains("usurper"), "closing after losing the lease must not release the other's");
  }

  @Test
  void aRenewalWhoseAnswerWasLostDoesNotLookLikeATakeover() {
    AtomicBoolean loseNextAnswer = new AtomicBoolean();
    ObjectStore losing = new ForwardingObjectStore(objects) {
      @Override
      public CompletableFuture<Optional<String>> putIfVersion(String key, byte[] data,
          String expectedTag) {
        CompletableFuture<Optional<String>> written = super.putIfVersion(key, data, expectedTag);
        return loseNextAnswer.getAndSet(false)
            ? written.thenCompose(w -> CompletableFuture.failedFuture(
                new ObjectStoreException("PUT " + key + ": the answer was lost")))
            : written;
      }
    };
    CoordinatorLease lease = acquire(losing, FAST, "holder");
    loseNextAnswer.set(true);
    // Renewals every 150 ms: the lost one, then several that find their own write.
    await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5))
        .until(() -> !lease.lost().isDone());
    assertFalse(loseNextAnswer.get(), "no renewal ran");
  }

  @Test
  void aHolderThatCannotRenewStepsDownBeforeItsTtlEnds() {
    SimulatedNetworkObjectStore flaky = new SimulatedNetworkObjectStore(objects,
        NetworkModel.none());
    try {
      // Margin for a loaded machine: the holder steps down an interval before the ttl.
      LeaseConfig config = new LeaseConfig(Duration.ofSeconds(3), Duration.ofMillis(500));
      CoordinatorLease lease = acquire(flaky, config, "flaky");
      long failingSince = System.nanoTime();
      flaky.setFaults(FaultInjector.failing(key -> true, FaultInjector.Operation.PUT_IF_VERSION,
          "503 SlowDown"));
      String reason = lease.lost().orTimeout(10, TimeUnit.SECONDS).join();
      assertTrue(reason.contains("could not be renewed") && reason.contains("503 SlowDown"),
          reason);
      assertTrue(System.nanoTime() - failingSince < config.ttl().toNanos(), "stepped down only after its ttl: a successor could have "
          + "taken over while it still acted as the holder");
    } finally {
      flaky.close();
    }
  }

  @Test
  void aHolderWritesNothingOnceItsLeaseMayHavePassed() {
    SimulatedNetworkObjectStore flaky = new SimulatedNetworkObjectStore(objects,
        NetworkModel.none());
    try {
      LeaseConfig config = new LeaseConfig(Duration.ofSeconds(2), Duration.ofMillis(300));
      CoordinatorLease lease = acquire(flaky, config, "flaky");
      ObjectStore bound = lease.bound(objects);
      bound.put("state/in-time", new byte[] {1}).orTimeout(10, TimeUnit.SECONDS).join();
      flaky.setFaults(FaultInjector.failing(key -> true, FaultInjector.Operation.PUT_IF_VERSION,
          "503 SlowDown"));
      // Renewals fail from now on: once the last good one is too old, a successor may take
      // over, and the holder's writes stop, whether or not it has noticed yet.
      await().atMost(Duration.ofSeconds(10)).until(() -> System.nanoTime()
          > lease.heldUntilNanos());
      // Its urgent view too (checkpoint metadata is written through it).
      for (CompletableFuture<?> write : List.of(bound.put("state/late", new byte[] {2}),
          bound.delete(List.of("state/in-time")),
          bound.urgent().putIfAbsent("state/late", new byte[] {3}))) {
        Throwable refused = failure(write);
        assertInstanceOf(ObjectStoreException.class, refused);
        assertTrue(refused.getMessage().contains("deadline passed"), refused.getMessage());
      }
      assertEquals(Optional.empty(), objects.head("state/late").join());
      assertTrue(objects.head("state/in-time").join().isPresent(), "deleted after the lease");
      // Reads still work.
      assertEquals(1, bound.get("state/in-time").join().length);
    } finally {
      flaky.close();
    }
  }

  @Test
  void aDeposedHolderWritesNothing() throws Exception {
    CoordinatorLease first = acquire(objects, FAST, "first");
    ObjectStore bound = first.bound(objects);
    leaveLease(new LeaseHolder("usurper", 7, "other-host", "boot-y", "ns", 0, "usurper"),
        first.epoch() + 1, System.currentTimeMillis(), 900, false);
    first.lost().orTimeout(10, TimeUnit.SECONDS).join();
    Throwable refused = failure(bound.put("checkpoints/_metadata", new byte[] {1}));
    assertTrue(refused.getMessage().contains("deadline passed"), refused.getMessage());
    assertEquals(Optional.empty(), objects.head("checkpoints/_metadata").join());
  }

  @Test
  void somethingElseWhereTheLeaseShouldBeIsNamed() {
    objects.put(CoordinatorLease.KEY, "not json".getBytes(StandardCharsets.UTF_8)).join();
    Throwable error = failure(CoordinatorLease.acquire(objects, FAST,
        LeaseHolder.thisProcess("x")));
    assertInstanceOf(IllegalStateException.class, error);
    assertTrue(error.getMessage().contains(CoordinatorLease.KEY)
        && error.getMessage().contains("is not a lease"), error.getMessage());
    assertFalse(error.getMessage().contains("at [Source"), error.getMessage());
  }
}
