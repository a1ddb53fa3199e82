package io.stratus.store.lsm;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * Runs asynchronous jobs one after the other, in submission order, on a shared executor: a job
 * starts when the previous one's future has completed, successfully or not. Flushes use it so
 * level-0 files are installed in the order their memtables were sealed.
 */
final class SerialAsyncQueue {

  private final Executor executor;
  private CompletableFuture<?> tail = CompletableFuture.completedFuture(null);

  SerialAsyncQueue(Executor executor) {
    this.executor = executor;
  }

  synchronized <T> CompletableFuture<T> submit(Supplier<CompletableFuture<T>> job) {
    CompletableFuture<T> result = tail.handle((v, e) -> null).thenComposeAsync(v -> {
      try {
        return job.get();
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
    }, executor);
    tail = result;
    return result;
  }

  /** Completes when every job submitted so far has ended. */
  synchronized CompletableFuture<Void> drained() {
    return tail.handle((v, e) -> null);
  }
}
