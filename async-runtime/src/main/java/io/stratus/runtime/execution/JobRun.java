package io.stratus.runtime.execution;

import java.util.concurrent.CompletableFuture;

/** The shared fate of a running job's tasks: the first failure stops them all. */
final class JobRun {

  private final CompletableFuture<Void> failure = new CompletableFuture<>();
  private volatile boolean stopped;

  void fail(Throwable error) {
    stopped = true;
    failure.completeExceptionally(error);
  }

  void cancel() {
    stopped = true;
    failure.cancel(false);
  }

  boolean stopped() {
    return stopped;
  }

  /** Completes exceptionally with the first failure (or cancellation); never normally. */
  CompletableFuture<Void> failure() {
    return failure;
  }
}
