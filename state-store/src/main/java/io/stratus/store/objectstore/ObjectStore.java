package io.stratus.store.objectstore;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The object-store SPI: the only way Stratus touches its bucket. Every operation is asynchronous
 * and never blocks the calling thread. Keys are relative to the store's root (an S3 bucket and
 * prefix, or a local directory); they use {@code /} as separator and never start with it.
 *
 * <p>Failures complete the future with an {@link ObjectStoreException} whose message names the
 * operation, the object and the cause ({@link ObjectNotFoundException},
 * {@link BucketNotFoundException}, {@link AccessDeniedException},
 * {@link EndpointUnreachableException}). Transient failures are retried inside the
 * implementation; a failure that reaches the caller is final. Messages never contain secrets.
 */
public interface ObjectStore extends AutoCloseable {

  /** Reads a whole object. */
  CompletableFuture<byte[]> get(String key);

  /**
   * Reads {@code length} bytes at {@code offset}; fails if the object is shorter than
   * {@code offset + length}.
   */
  CompletableFuture<byte[]> getRange(String key, long offset, int length);

  /** Writes an object, replacing any object of that key. Readers see the old or the new object. */
  CompletableFuture<Void> put(String key, byte[] data);

  /**
   * Writes an object only if none exists under {@code key} (a conditional write): of two writers
   * racing for the same key exactly one gets {@code true}.
   *
   * @return {@code true} if this call created the object, {@code false} if it existed
   */
  CompletableFuture<Boolean> putIfAbsent(String key, byte[] data);

  /** Reads a whole object with its version tag, or empty if there is no such object. */
  CompletableFuture<Optional<VersionedObject>> getVersioned(String key);

  /**
   * Replaces an object only if its version tag is still {@code expectedTag} (a compare-and-swap,
   * {@code If-Match} on S3): of two writers racing from the same version exactly one succeeds.
   * A write whose response was lost and that is retried finds its own content and succeeds.
   *
   * @return the new version tag; empty if the object is missing or has another version
   */
  CompletableFuture<Optional<String>> putIfVersion(String key, byte[] data,
      String expectedTag);

  /** The object's size and modification time, or empty if there is no such object. */
  CompletableFuture<Optional<ObjectInfo>> head(String key);

  /** All objects whose key starts with {@code prefix}, in key order. */
  CompletableFuture<List<ObjectInfo>> list(String prefix);

  /** Deletes objects, in batches where the store supports it. Missing keys are not an error. */
  CompletableFuture<Void> delete(Collection<String> keys);

  /**
   * The same store for the control plane's few requests (the coordinator's lease), which must
   * not wait behind data transfers: a store that queues requests gives them connections of
   * their own. Closed with this store.
   */
  default ObjectStore forControlPlane() {
    return this;
  }

  /**
   * The same store for requests that go ahead of every other request waiting for a connection:
   * what a checkpoint waits for (a store's deltas and manifests), and a restored store's cache
   * warm-up, whose few large reads end the many small misses queued behind them (served in
   * arrival order, they would start after all of those). A view, closed with this store.
   */
  default ObjectStore urgent() {
    return this;
  }

  /**
   * The same store for writes that must land before {@code deadlineNanos} (on
   * {@link System#nanoTime()}'s clock) or not at all: a write whose deadline has passed is not
   * sent, and none is retried after it. A store that can abort a request in flight does so at
   * the deadline (S3: the SDK's API call timeout); one whose request was already received may
   * still complete it. A view, closed with this store. For the writes of a lease holder, which
   * must not outlive the lease.
   */
  default ObjectStore until(long deadlineNanos) {
    return new DeadlineObjectStore(this, deadlineNanos);
  }

  /** Where this store points, for messages: {@code s3://bucket/prefix} or a directory. */
  String location();

  /** Releases connections and threads; pending operations may fail. */
  @Override
  void close();
}
