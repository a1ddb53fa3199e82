package io.stratus.bench;

import io.stratus.store.objectstore.ForwardingObjectStore;
import io.stratus.store.objectstore.ObjectStore;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts the bytes written through it by the first segment of the key ({@code sst},
 * {@code versions}, {@code jobs}, ...), so a benchmark can tell state files from manifests and
 * checkpoint metadata. Counts successful writes only.
 */
final class WriteCountingObjectStore extends ForwardingObjectStore {

  private final Map<String, LongAdder> written = new ConcurrentHashMap<>();

  WriteCountingObjectStore(ObjectStore inner) {
    super(inner);
  }

  /** Bytes written so far under keys starting with {@code segment + "/"}. */
  long bytesWritten(String segment) {
    LongAdder a = written.get(segment);
    return a == null ? 0 : a.sum();
  }

  private void count(String key, int bytes) {
    int slash = key.indexOf('/');
    written.computeIfAbsent(slash < 0 ? key : key.substring(0, slash), k -> new LongAdder())
        .add(bytes);
  }

  @Override
  public CompletableFuture<Void> put(String key, byte[] data) {
    return super.put(key, data).thenRun(() -> count(key, data.length));
  }

  @Override
  public CompletableFuture<Boolean> putIfAbsent(String key, byte[] data) {
    return super.putIfAbsent(key, data).thenApply(created -> {
      if (created) {
        count(key, data.length);
      }
      return created;
    });
  }

  @Override
  public CompletableFuture<Optional<String>> putIfVersion(String key, byte[] data,
      String expectedTag) {
    return super.putIfVersion(key, data, expectedTag).thenApply(tag -> {
      tag.ifPresent(t -> count(key, data.length));
      return tag;
    });
  }
}
