package io.stratus.store.lsm;

import io.stratus.store.objectstore.ObjectStore;
import io.stratus.store.sst.CorruptSstException;
import io.stratus.store.sst.SstProperties;
import io.stratus.store.sst.SstReader;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One SST object as a store instance knows it: its properties (from the version that listed it,
 * so that nothing is read at open), how many live versions reference it, whether it may be
 * shared with checkpoints (then only the coordinator deletes it), and its pinned reader, loaded
 * on first use with one ranged read of the file's tail.
 */
final class SstFile {

  private final String name;
  private final SstProperties properties;
  private final AtomicInteger versionRefs = new AtomicInteger();
  private volatile boolean shared;
  private CompletableFuture<SstReader> reader;

  SstFile(String name, SstProperties properties, boolean shared) {
    this.name = name;
    this.properties = properties;
    this.shared = shared;
  }

  String name() {
    return name;
  }

  SstProperties properties() {
    return properties;
  }

  boolean shared() {
    return shared;
  }

  /** From now on the file may be referenced by a checkpoint: its writer must not delete it. */
  void markShared() {
    shared = true;
  }

  void retain() {
    versionRefs.incrementAndGet();
  }

  /** Returns {@code true} when the last live version let go of the file. */
  boolean release() {
    int left = versionRefs.decrementAndGet();
    if (left < 0) {
      throw new IllegalStateException("file " + name + " released more often than retained");
    }
    return left == 0;
  }

  /** The pinned reader, loading it on first use; a failed load is retried by the next call. */
  synchronized CompletableFuture<SstReader> reader(ObjectStore store) {
    CompletableFuture<SstReader> current = reader;
    if (current != null && !current.isCompletedExceptionally()) {
      return current;
    }
    long tail = properties.fileSize() - properties.metaOffset();
    current = store.getRange(name, properties.metaOffset(), (int) tail)
        .thenApply(bytes -> checkMatches(SstReader.parse(name, properties.fileSize(),
            properties.metaOffset(), bytes)));
    reader = current;
    return current;
  }

  /** Pins a reader parsed from the file's bytes at hand (the writer's copy): no read needed. */
  synchronized void pin(SstReader parsed) {
    reader = CompletableFuture.completedFuture(checkMatches(parsed));
  }

  /** Drops the pinned reader (the file left the store). */
  synchronized void unpin() {
    reader = null;
  }

  /** Heap bytes pinned for the file now. */
  synchronized long pinnedBytes() {
    CompletableFuture<SstReader> r = reader;
    return r != null && r.isDone() && !r.isCompletedExceptionally() ? r.join().pinnedBytes() : 0;
  }

  private SstReader checkMatches(SstReader parsed) {
    SstProperties p = parsed.properties();
    if (p.entries() != properties.entries() || p.metaOffset() != properties.metaOffset()
        || !Arrays.equals(p.smallest(), properties.smallest())
        || !Arrays.equals(p.largest(), properties.largest())) {
      throw new CorruptSstException(name, properties.metaOffset(),
          "the file's properties do not match the version that lists it (replaced object?)");
    }
    return parsed;
  }

  @Override
  public String toString() {
    return name;
  }
}
