package io.stratus.store.objectstore;

import java.util.Collection;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * {@link ObjectStore#until} for stores that cannot abort a request in flight: writes are refused
 * once the deadline has passed, reads pass through. A view: closing it closes nothing.
 */
final class DeadlineObjectStore extends ForwardingObjectStore {

  private final long deadlineNanos;

  DeadlineObjectStore(ObjectStore inner, long deadlineNanos) {
    super(inner);
    this.deadlineNanos = deadlineNanos;
  }

  /** The exception of a request not sent because its deadline has passed. */
  static ObjectStoreException passed(String operation, String key, String location) {
    return new ObjectStoreException(operation + " " + key + " in " + location
        + " not sent: its deadline passed");
  }

  private <T> CompletableFuture<T> write(String operation, String key,
      Supplier<CompletableFuture<T>> write) {
    if (System.nanoTime() >= deadlineNanos) {
      return CompletableFuture.failedFuture(passed(operation, key, location()));
    }
    return write.get();
  }

  @Override
  public CompletableFuture<Void> put(String key, byte[] data) {
    return write("PUT", key, () -> super.put(key, data));
  }

  @Override
  public CompletableFuture<Boolean> putIfAbsent(String key, byte[] data) {
    return write("conditional PUT", key, () -> super.putIfAbsent(key, data));
  }

  @Override
  public CompletableFuture<Optional<String>> putIfVersion(String key, byte[] data,
      String expectedTag) {
    return write("conditional PUT (If-Match)", key,
        () -> super.putIfVersion(key, data, expectedTag));
  }

  @Override
  public CompletableFuture<Void> delete(Collection<String> keys) {
    return keys.isEmpty() ? CompletableFuture.completedFuture(null)
        : write("DELETE (" + keys.size() + " objects from)", keys.iterator().next(),
            () -> super.delete(keys));
  }

  /** A view: the store it bounds is closed by its owner. */
  @Override
  public void close() {
  }
}
