package io.stratus.store.objectstore;

import static io.stratus.store.objectstore.Await.failure;
import static io.stratus.store.objectstore.Await.join;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The in-flight bound of object-store requests, its FIFO queue, and permit accounting. */
class AsyncPermitsTest {

  @Test
  void neverRunsMoreThanTheBoundUnderManyConcurrentCallers() throws Exception {
    int bound = 4;
    AsyncPermits permits = new AsyncPermits(bound);
    AtomicInteger running = new AtomicInteger();
    AtomicInteger maxRunning = new AtomicInteger();
    ScheduledExecutorService completer = Executors.newScheduledThreadPool(3);
    ExecutorService callers = Executors.newFixedThreadPool(4);
    List<CompletableFuture<Integer>> results = new ArrayList<>();
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<java.util.concurrent.Future<List<CompletableFuture<Integer>>>> submitted =
          new ArrayList<>();
      for (int c = 0; c < 4; c++) {
        int caller = c;
        submitted.add(callers.submit(() -> {
          go.await();
          Random random = new Random(caller);
          List<CompletableFuture<Integer>> mine = new ArrayList<>();
          for (int i = 0; i < 150; i++) {
            int value = caller * 1000 + i;
            boolean synchronous = random.nextInt(5) == 0;
            long delayMicros = random.nextInt(500);
            mine.add(permits.run(() -> {
              maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
              if (synchronous) {
                running.decrementAndGet();
                return CompletableFuture.completedFuture(value);
              }
              CompletableFuture<Integer> f = new CompletableFuture<>();
              completer.schedule(() -> {
                running.decrementAndGet();
                f.complete(value);
              }, delayMicros, TimeUnit.MICROSECONDS);
              return f;
            }));
          }
          return mine;
        }));
      }
      go.countDown();
      for (var s : submitted) {
        results.addAll(s.get());
      }
      for (CompletableFuture<Integer> r : results) {
        join(r);
      }
    } finally {
      completer.shutdownNow();
      callers.shutdownNow();
    }
    assertEquals(600, results.size());
    assertTrue(maxRunning.get() <= bound, "ran " + maxRunning.get() + " at once");
    // Otherwise the bound was never tested.
    assertEquals(bound, maxRunning.get(), "the bound was reached");
    assertEquals(0, permits.inUse());
  }

  @Test
  void waitersStartInArrivalOrder() {
    AsyncPermits permits = new AsyncPermits(2);
    List<Integer> startOrder = new ArrayList<>();
    List<CompletableFuture<Integer>> pending = new ArrayList<>();
    List<CompletableFuture<Integer>> results = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      int id = i;
      results.add(permits.run(() -> {
        startOrder.add(id);
        CompletableFuture<Integer> f = new CompletableFuture<>();
        pending.add(f);
        return f;
      }));
    }
    assertEquals(List.of(0, 1), startOrder);
    // Complete out of order: whichever permit frees, the oldest waiter gets it.
    Random random = new Random(7);
    while (startOrder.size() < 30 || pending.stream().anyMatch(f -> !f.isDone())) {
      List<CompletableFuture<Integer>> open =
          pending.stream().filter(f -> !f.isDone()).toList();
      open.get(random.nextInt(open.size())).complete(0);
      assertTrue(permits.inUse() <= 2);
    }
    List<Integer> expected = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      expected.add(i);
    }
    assertEquals(expected, startOrder);
    results.forEach(r -> assertTrue(r.isDone()));
    assertEquals(0, permits.inUse());
  }

  @Test
  void urgentWaitersStartBeforeTheOthersInTheirOwnArrivalOrder() {
    AsyncPermits permits = new AsyncPermits(1);
    List<String> startOrder = new ArrayList<>();
    List<CompletableFuture<Void>> pending = new ArrayList<>();
    for (String name : List.of("a", "b", "!c", "d", "!e", "!f", "g")) {
      permits.run(() -> {
        startOrder.add(name);
        CompletableFuture<Void> f = new CompletableFuture<>();
        pending.add(f);
        return f;
      }, name.startsWith("!"));
    }
    while (startOrder.size() < 7) {
      pending.get(startOrder.size() - 1).complete(null);
      assertTrue(permits.inUse() <= 1);
    }
    // "a" held the permit; then the urgent ones as they came, then the rest as they came.
    assertEquals(List.of("a", "!c", "!e", "!f", "b", "d", "g"), startOrder);
    pending.get(6).complete(null);
    assertEquals(0, permits.inUse());
  }

  @Test
  void aLateCallerDoesNotOvertakeWaiters() {
    AsyncPermits permits = new AsyncPermits(1);
    List<String> startOrder = new ArrayList<>();
    CompletableFuture<String> first = new CompletableFuture<>();
    permits.run(() -> {
      startOrder.add("first");
      return first;
    });
    permits.run(() -> {
      startOrder.add("waiter");
      return CompletableFuture.completedFuture("w");
    });
    // A caller arriving as the permit frees must queue behind the waiter.
    first.whenComplete((v, e) -> permits.run(() -> {
      startOrder.add("late");
      return CompletableFuture.completedFuture("l");
    }));
    first.complete("f");
    assertEquals(List.of("first", "waiter", "late"), startOrder);
    assertEquals(0, permits.inUse());
  }

  @Test
  void failuresReturnThePermitAndReachTheCaller() {
    AsyncPermits permits = new AsyncPermits(1);
    IllegalStateException thrown = new IllegalStateException("supplier threw");
    CompletableFuture<Object> a = permits.run(() -> {
      throw thrown;
    });
    assertSame(thrown, failure(IllegalStateException.class, a));
    assertEquals(0, permits.inUse());

    ObjectStoreException failed = new ObjectStoreException("request failed");
    CompletableFuture<Object> b = permits.run(() -> CompletableFuture.failedFuture(failed));
    assertSame(failed, failure(ObjectStoreException.class, b));
    assertEquals(0, permits.inUse());

    assertEquals("ok", join(permits.run(() -> CompletableFuture.completedFuture("ok"))));
  }

  /**
   * Waiters whose operations complete at once (a fast failure, a cached answer) are started one
   * after the other as permits free; that must not nest one stack frame per waiter.
   */
  @Test
  void aLongQueueOfSynchronousOperationsDrainsWithoutOverflowingTheStack() {
    AsyncPermits permits = new AsyncPermits(1);
    CompletableFuture<Integer> first = new CompletableFuture<>();
    permits.run(() -> first);
    int waiters = 100_000;
    List<CompletableFuture<Integer>> results = new ArrayList<>(waiters);
    AtomicInteger started = new AtomicInteger();
    for (int i = 0; i < waiters; i++) {
      int value = i;
      results.add(permits.run(() -> {
        started.incrementAndGet();
        return CompletableFuture.completedFuture(value);
      }));
    }
    assertEquals(0, started.get());
    first.complete(-1);
    assertEquals(waiters, started.get());
    for (int i = 0; i < waiters; i++) {
      CompletableFuture<Integer> r = results.get(i);
      assertFalse(r.isCompletedExceptionally(), () -> "waiter failed: " + r);
      assertEquals(i, r.join());
    }
    assertEquals(0, permits.inUse());
  }

  @Test
  void rejectsABoundBelowOne() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new AsyncPermits(0));
    assertTrue(e.getMessage().contains("0"), e.getMessage());
  }
}
