package io.stratus.runtime.state;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The result of an asynchronous state access, as Flink 2.0's {@code StateFuture}: continuations
 * run on the task thread with the record's context current (so further state calls go to the
 * same key), never on an I/O thread, and the record counts as in flight until they have run. A
 * value already at hand (memtable or cache hit) continues at once, without a thread hop.
 *
 * <p>A failure (of the backend or of a continuation) fails the task with the record that caused
 * it; there is no error handler to forget.
 *
 * @param <T> the value type
 */
public final class StateFuture<T> {

  private final CompletableFuture<T> completion;
  private final RecordContext context;
  private final RecordExecution execution;

  StateFuture(CompletableFuture<T> completion, RecordContext context, RecordExecution execution) {
    this.completion = completion;
    this.context = context;
    this.execution = execution;
  }

  /** A future for the running record that completes when {@code completion} does. */
  public static <T> StateFuture<T> of(CompletableFuture<T> completion, RecordExecution execution) {
    return new StateFuture<>(completion, execution.currentContext(), execution);
  }

  /** An already completed future for the running record. */
  public static <T> StateFuture<T> completed(T value, RecordExecution execution) {
    return of(CompletableFuture.completedFuture(value), execution);
  }

  public <U> StateFuture<U> thenApply(Function<? super T, ? extends U> fn) {
    CompletableFuture<U> next = new CompletableFuture<>();
    whenDone(v -> next.complete(fn.apply(v)), next);
    return new StateFuture<>(next, context, execution);
  }

  public StateFuture<Void> thenAccept(Consumer<? super T> action) {
    CompletableFuture<Void> next = new CompletableFuture<>();
    whenDone(v -> {
      action.accept(v);
      next.complete(null);
    }, next);
    return new StateFuture<>(next, context, execution);
  }

  public <U> StateFuture<U> thenCompose(Function<? super T, StateFuture<U>> fn) {
    CompletableFuture<U> next = new CompletableFuture<>();
    whenDone(v -> {
      StateFuture<U> inner = fn.apply(v);
      inner.whenDone(next::complete, next);
    }, next);
    return new StateFuture<>(next, context, execution);
  }

  public <U, R> StateFuture<R> thenCombine(StateFuture<U> other,
      BiFunction<? super T, ? super U, ? extends R> fn) {
    return thenCompose(a -> other.thenApply(b -> fn.apply(a, b)));
  }

  /** The value if this future has completed successfully, else {@code null}. */
  public T getNow() {
    return completion.isDone() && !completion.isCompletedExceptionally()
        ? completion.join() : null;
  }

  public boolean isDone() {
    return completion.isDone();
  }

  private void whenDone(Consumer<T> action, CompletableFuture<?> next) {
    context.retain();
    BiConsumer<T, Throwable> run = (value, error) -> {
      try {
        if (error != null) {
          // The record's own code reports its failures before they propagate here, so a first
          // failure seen here came from the backend.
          execution.failStateAccess(context, unwrap(error));
          next.completeExceptionally(error);
        } else {
          action.accept(value);
        }
      } catch (Throwable t) {
        execution.fail(context, t);
        next.completeExceptionally(t);
      } finally {
        context.release();
      }
    };
    if (completion.isDone() && execution.inTaskThread()
        && execution.currentContext() == context) {
      T value = null;
      Throwable error = null;
      try {
        value = completion.join();
      } catch (CompletionException e) {
        error = e.getCause();
      } catch (RuntimeException e) {
        error = e;
      }
      run.accept(value, error);
      return;
    }
    completion.whenComplete((value, error) ->
        execution.runInContext(context, () -> run.accept(value, error)));
  }

  private static Throwable unwrap(Throwable t) {
    return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
  }
}
