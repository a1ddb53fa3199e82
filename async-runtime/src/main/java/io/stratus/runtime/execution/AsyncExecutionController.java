package io.stratus.runtime.execution;

import io.stratus.runtime.state.RecordContext;
import io.stratus.runtime.state.RecordExecution;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;

/**
 * Runs the records of one keyed task so that records of different keys overlap while they wait
 * for state, and records of the same key run strictly in arrival order: a record starts only
 * when the previous record of its key has completed, that is when its code and every
 * continuation of its state futures have run. At most {@link DrainTimeLimit#current()} records
 * are started or waiting for their key; {@link #whenCapacity()} tells the input when to go on.
 *
 * <p>Confined to the task thread, except {@link #runInContext}, which any thread may call.
 */
public final class AsyncExecutionController implements RecordExecution {

  private final Executor taskExecutor;
  private final BooleanSupplier inTaskThread;
  private final DrainTimeLimit limit;
  private final FailureHandler onFailure;
  private final Map<ByteBuffer, ArrayDeque<RecordContext>> activeKeys = new HashMap<>();
  private int inFlight;
  private int maxObserved;
  private RecordContext current;
  private CompletableFuture<Void> capacity;
  private CompletableFuture<Void> drained;
  private boolean failed;
  private Runnable onFirstCompletion;

  /** Decides what a record's failure does. */
  @FunctionalInterface
  public interface FailureHandler {
    /**
     * @param inUserCode whether the record's own code threw (else a state access failed)
     * @return true if the failure was handled (the record dead-lettered) and records go on;
     *         false if the task fails
     */
    boolean handle(RecordContext context, Throwable error, boolean inUserCode);
  }

  /**
   * @param taskExecutor runs work on the task thread (the task's Vert.x context)
   * @param inTaskThread whether the calling thread is the task thread
   * @param maxInFlight  records started or waiting, at most
   * @param onFailure    called once with the first failure and its record; the task fails
   */
  public AsyncExecutionController(Executor taskExecutor, BooleanSupplier inTaskThread,
      int maxInFlight, BiConsumer<RecordContext, Throwable> onFailure) {
    this(taskExecutor, inTaskThread, DrainTimeLimit.fixed(maxInFlight),
        (context, error, inUserCode) -> {
          onFailure.accept(context, error);
          return false;
        });
  }

  /**
   * @param limit     records started or waiting, at most
   * @param onFailure called with each record's first failure until one is not handled; then
   *                  the task has failed and no record starts any more
   */
  public AsyncExecutionController(Executor taskExecutor, BooleanSupplier inTaskThread,
      DrainTimeLimit limit, FailureHandler onFailure) {
    this.taskExecutor = taskExecutor;
    this.inTaskThread = inTaskThread;
    this.limit = limit;
    this.onFailure = onFailure;
  }

  /** Accepts a record (or timer): starts it now, or after the records of its key before it. */
  public void submit(RecordContext context) {
    if (inFlight++ == 0) {
      limit.busy(System.nanoTime());
    }
    maxObserved = Math.max(maxObserved, inFlight);
    ByteBuffer key = ByteBuffer.wrap(context.keyBytes());
    ArrayDeque<RecordContext> waiting = activeKeys.get(key);
    if (waiting != null) {
      waiting.add(context);
      return;
    }
    activeKeys.put(key, new ArrayDeque<>(2));
    start(context, key);
  }

  private void start(RecordContext context, ByteBuffer key) {
    context.onCompleteInternal(() -> complete(key));
    context.retain();
    runWith(context, context.bodyInternal());
    context.release();
  }

  private void complete(ByteBuffer key) {
    inFlight--;
    limit.completed(System.nanoTime(), inFlight == 0);
    if (onFirstCompletion != null) {
      Runnable first = onFirstCompletion;
      onFirstCompletion = null;
      first.run();
    }
    ArrayDeque<RecordContext> waiting = activeKeys.get(key);
    RecordContext next = waiting == null ? null : waiting.poll();
    if (next == null) {
      activeKeys.remove(key);
    } else if (!failed) {
      start(next, key);
    }
    if (capacity != null && hasCapacity()) {
      CompletableFuture<Void> c = capacity;
      capacity = null;
      c.complete(null);
    }
    if (drained != null && inFlight == 0) {
      CompletableFuture<Void> d = drained;
      drained = null;
      d.complete(null);
    }
  }

  /** Whether another record may be submitted now. */
  public boolean hasCapacity() {
    return inFlight < limit.current();
  }

  /** Completes when another record may be submitted. */
  public CompletableFuture<Void> whenCapacity() {
    if (hasCapacity()) {
      return CompletableFuture.completedFuture(null);
    }
    if (capacity == null) {
      capacity = new CompletableFuture<>();
    }
    return capacity;
  }

  /** Completes when every submitted record has completed: the epoch boundary. */
  public CompletableFuture<Void> whenDrained() {
    if (inFlight == 0) {
      return CompletableFuture.completedFuture(null);
    }
    if (drained == null) {
      drained = new CompletableFuture<>();
    }
    return drained;
  }

  public int inFlight() {
    return inFlight;
  }

  /** The most records that were ever in flight at once (for tests and metrics). */
  public int maxObservedInFlight() {
    return maxObserved;
  }

  /** Runs {@code action} now, on the task thread, with {@code context} current. */
  public void runWith(RecordContext context, Runnable action) {
    RecordContext previous = current;
    current = context;
    try {
      action.run();
    } catch (Throwable t) {
      fail(context, t);
    } finally {
      current = previous;
    }
  }

  @Override
  public RecordContext currentContext() {
    return current;
  }

  @Override
  public boolean inTaskThread() {
    return inTaskThread.getAsBoolean();
  }

  @Override
  public void runInContext(RecordContext context, Runnable action) {
    if (inTaskThread.getAsBoolean()) {
      runWith(context, action);
    } else {
      taskExecutor.execute(() -> runWith(context, action));
    }
  }

  @Override
  public void fail(RecordContext context, Throwable error) {
    fail(context, error, true);
  }

  @Override
  public void failStateAccess(RecordContext context, Throwable error) {
    fail(context, error, false);
  }

  private void fail(RecordContext context, Throwable error, boolean inUserCode) {
    if (failed || (context != null && !context.markFailed())) {
      return;
    }
    if (!onFailure.handle(context, error, inUserCode)) {
      failed = true;
    }
  }

  /** Runs {@code action} once, when the first record or timer has completed. */
  public void onFirstCompletion(Runnable action) {
    onFirstCompletion = action;
  }

  /** Starts no more waiting records (the task was canceled); in-flight ones are dropped. */
  public void abandon() {
    failed = true;
  }

  public boolean failed() {
    return failed;
  }
}
