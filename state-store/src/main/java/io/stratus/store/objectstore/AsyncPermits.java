package io.stratus.store.objectstore;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Bounds how many asynchronous operations run at once; callers beyond the bound wait in FIFO
 * order (urgent ones first) without blocking a thread. Used to cap requests in flight to an object store, so that a
 * burst of cache misses queues here instead of timing out in a connection pool.
 */
final class AsyncPermits {

  /** Waiters handed a permit on this thread, started one after the other (see release). */
  private static final ThreadLocal<ArrayDeque<Runnable>> HANDED_OVER = new ThreadLocal<>();

  private final int max;
  private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
  private final ArrayDeque<Runnable> waitingUrgent = new ArrayDeque<>();
  private int inUse;

  AsyncPermits(int max) {
    if (max < 1) {
      throw new IllegalArgumentException("max concurrency must be >= 1, was " + max);
    }
    this.max = max;
  }

  /** Runs {@code operation} once a permit is free; the permit returns when its future ends. */
  <T> CompletableFuture<T> run(Supplier<CompletableFuture<T>> operation) {
    return run(operation, false);
  }

  /**
   * As {@link #run(Supplier)}; an {@code urgent} operation waits only for the urgent ones
   * queued before it.
   */
  <T> CompletableFuture<T> run(Supplier<CompletableFuture<T>> operation, boolean urgent) {
    CompletableFuture<T> result = new CompletableFuture<>();
    Runnable start = () -> {
      CompletableFuture<T> running;
      try {
        running = operation.get();
      } catch (RuntimeException e) {
        running = CompletableFuture.failedFuture(e);
      }
      running.whenComplete((value, error) -> {
        release();
        if (error != null) {
          result.completeExceptionally(error);
        } else {
          result.complete(value);
        }
      });
    };
    boolean now;
    synchronized (this) {
      now = inUse < max;
      if (now) {
        inUse++;
      } else {
        (urgent ? waitingUrgent : waiting).add(start);
      }
    }
    if (now) {
      start.run();
    }
    return result;
  }

  private void release() {
    Runnable next;
    synchronized (this) {
      next = waitingUrgent.poll();
      if (next == null) {
        next = waiting.poll();
      }
      if (next == null) {
        inUse--;
      }
    }
    if (next != null) {
      startHandedOver(next);
    }
  }

  /**
   * Starts a waiter that inherited a permit. An operation that completes at once releases its
   * permit inside this call; the next waiter then starts when this one returns rather than a few
   * stack frames deeper, so a long queue of such operations cannot overflow the stack (which
   * would lose the permit and stall every later caller).
   */
  private static void startHandedOver(Runnable start) {
    ArrayDeque<Runnable> queue = HANDED_OVER.get();
    if (queue != null) {
      queue.add(start);
      return;
    }
    queue = new ArrayDeque<>();
    HANDED_OVER.set(queue);
    try {
      for (Runnable r = start; r != null; r = queue.poll()) {
        r.run();
      }
    } finally {
      HANDED_OVER.remove();
    }
  }

  synchronized int inUse() {
    return inUse;
  }
}
