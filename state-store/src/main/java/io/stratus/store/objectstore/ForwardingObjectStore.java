package io.stratus.store.objectstore;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * An {@link ObjectStore} that passes every call to another: a base for decorators that change
 * or observe a few operations (count written bytes, lose an answer in a test).
 */
public abstract class ForwardingObjectStore implements ObjectStore {

  private final ObjectStore inner;

  protected ForwardingObjectStore(ObjectStore inner) {
    this.inner = inner;
  }

  @Override
  public CompletableFuture<byte[]> get(String key) {
    return inner.get(key);
  }

  @Override
  public CompletableFuture<byte[]> getRange(String key, long offset, int length) {
    return inner.getRange(key, offset, length);
  }

  @Override
  public CompletableFuture<Void> put(String key, byte[] data) {
    return inner.put(key, data);
  }

  @Override
  public CompletableFuture<Boolean> putIfAbsent(String key, byte[] data) {
    return inner.putIfAbsent(key, data);
  }

  @Override
  public CompletableFuture<Optional<VersionedObject>> getVersioned(String key) {
    return inner.getVersioned(key);
  }

  @Override
  public CompletableFuture<Optional<String>> putIfVersion(String key, byte[] data,
      String expectedTag) {
    return inner.putIfVersion(key, data, expectedTag);
  }

  @Override
  public CompletableFuture<Optional<ObjectInfo>> head(String key) {
    return inner.head(key);
  }

  @Override
  public CompletableFuture<List<ObjectInfo>> list(String prefix) {
    return inner.list(prefix);
  }

  @Override
  public CompletableFuture<Void> delete(Collection<String> keys) {
    return inner.delete(keys);
  }

  @Override
  public String location() {
    return inner.location();
  }

  /** Closes the store it forwards to. */
  @Override
  public void close() {
    inner.close();
  }
}
