package io.stratus.scheduler.lease;

import io.stratus.store.objectstore.ForwardingObjectStore;
import io.stratus.store.objectstore.ObjectStore;
import java.util.Collection;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A lease holder's store ({@link CoordinatorLease#bound}): every write is bounded by
 * {@link CoordinatorLease#heldUntilNanos} at its start, so none starts, is retried or stays in
 * flight past the moment a successor may take the lease over. Reads pass through. A view:
 * closing it closes nothing.
 */
final class LeaseBoundObjectStore extends ForwardingObjectStore {

  private final ObjectStore objects;
  private final CoordinatorLease lease;

  LeaseBoundObjectStore(ObjectStore objects, CoordinatorLease lease) {
    super(objects);
    this.objects = objects;
    this.lease = lease;
  }

  private ObjectStore whileHeld() {
    return objects.until(lease.heldUntilNanos());
  }

  @Override
  public CompletableFuture<Void> put(String key, byte[] data) {
    return whileHeld().put(key, data);
  }

  @Override
  public CompletableFuture<Boolean> putIfAbsent(String key, byte[] data) {
    return whileHeld().putIfAbsent(key, data);
  }

  @Override
  public CompletableFuture<Optional<String>> putIfVersion(String key, byte[] data,
      String expectedTag) {
    return whileHeld().putIfVersion(key, data, expectedTag);
  }

  @Override
  public CompletableFuture<Void> delete(Collection<String> keys) {
    return whileHeld().delete(keys);
  }

  /** Still bounded by the lease; its requests go ahead of those queued (a checkpoint's metadata). */
  @Override
  public ObjectStore urgent() {
    return new LeaseBoundObjectStore(objects.urgent(), lease);
  }

  /** Not bounded: the control plane's writes are compare-and-swaps that fence themselves. */
  @Override
  public ObjectStore forControlPlane() {
    return objects.forControlPlane();
  }

  @Override
  public void close() {
  }
}
