package io.stratus.runtime.execution;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/** A single thread playing a keyed task's thread (its Vert.x context in a job). */
final class TaskThread implements Executor, AutoCloseable {

  private final ExecutorService executor;
  private volatile Thread thread;

  TaskThread() {
    executor = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "test-task-thread");
      t.setDaemon(true);
      thread = t;
      return t;
    });
  }

  boolean isCurrent() {
    return Thread.currentThread() == thread;
  }

  @Override
  public void execute(Runnable command) {
    executor.execute(command);
  }

  /** Runs {@code action} on the task thread and waits for its result. */
  <T> T call(Callable<T> action) {
    return await(CompletableFuture.supplyAsync(() -> {
      try {
        return action.call();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, executor));
  }

  static <T> T await(CompletableFuture<T> f) {
    try {
      return f.get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("did not complete: " + e, e);
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
