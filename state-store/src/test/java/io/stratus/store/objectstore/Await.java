package io.stratus.store.objectstore;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Waits for object-store futures in tests. The 60 s limit only keeps a hung operation from
 * hanging the build; it is a liveness guard, not a performance assertion.
 */
public final class Await {

  private static final long LIMIT_SECONDS = 60;

  private Await() {}

  public static <T> T join(CompletableFuture<T> future) {
    try {
      return future.get(LIMIT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      Throwable cause = unwrap(e);
      throw new AssertionError("operation failed: " + cause, cause);
    } catch (TimeoutException e) {
      throw new AssertionError("operation did not complete within " + LIMIT_SECONDS + " s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** The exception {@code future} failed with, which must be a {@code type}. */
  public static <X extends Throwable> X failure(Class<X> type, CompletableFuture<?> future) {
    Object value;
    try {
      value = future.get(LIMIT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      Throwable cause = unwrap(e);
      return assertInstanceOf(type, cause, () -> "failed with " + cause);
    } catch (TimeoutException e) {
      throw new AssertionError("operation did not complete within " + LIMIT_SECONDS + " s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
    return fail("expected " + type.getSimpleName() + ", but the operation returned " + value);
  }

  public static Throwable unwrap(Throwable t) {
    Throwable c = t;
    while ((c instanceof ExecutionException || c instanceof CompletionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }
}
