package io.stratus.scheduler;

import io.stratus.store.lsm.CheckpointHandle;
import io.stratus.store.objectstore.ObjectInfo;
import io.stratus.store.objectstore.ObjectStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Deletes state files that no checkpoint or savepoint references and never will: what a task
 * uploaded before its process was killed (a flushed or compacted file no completed checkpoint
 * took up). A live task owns the files it wrote until a checkpoint references them, so the
 * sweep runs only when no job runs under the prefix, and spares files newer than a cutoff
 * (uploads that were still in flight, clocks that disagree). Output a sink staged is the
 * sink's, not swept here.
 */
final class OrphanSweep {

  /** Where stores keep their files (the LSM store's and the rocksdb-local backend's). */
  static final List<String> STATE_PREFIXES = List.of("sst/", "versions/", "rocksdb/");

  private final ObjectStore objects;
  private final CheckpointStorage storage;
  private final Supplier<CompletableFuture<Void>> fence;

  /**
   * @param fence completes when deleting is allowed now, fails once the coordinator lost its
   *              lease
   */
  OrphanSweep(ObjectStore objects, CheckpointStorage storage,
      Supplier<CompletableFuture<Void>> fence) {
    this.objects = objects;
    this.storage = storage;
    this.fence = fence;
  }

  /**
   * Deletes the state files written before {@code cutoff} that no checkpoint or savepoint of
   * any job under the prefix references; completes with the objects deleted.
   */
  CompletableFuture<List<ObjectInfo>> sweep(Instant cutoff) {
    return storage.allRestorePoints().thenCompose(points -> {
      Set<String> referenced = new HashSet<>();
      for (CheckpointStorage.RestorePoint p : points) {
        for (CheckpointHandle h : p.metadata().checkpointHandles()) {
          referenced.add(h.manifestKey());
          referenced.addAll(h.files());
        }
      }
      List<CompletableFuture<List<ObjectInfo>>> listings = new ArrayList<>();
      for (String prefix : STATE_PREFIXES) {
        listings.add(objects.list(prefix));
      }
      return CompletableFuture.allOf(listings.toArray(CompletableFuture[]::new)).thenCompose(
          v -> {
            List<ObjectInfo> orphans = new ArrayList<>();
            for (CompletableFuture<List<ObjectInfo>> l : listings) {
              for (ObjectInfo o : l.join()) {
                if (!referenced.contains(o.key()) && o.lastModified().isBefore(cutoff)) {
                  orphans.add(o);
                }
              }
            }
            if (orphans.isEmpty()) {
              return CompletableFuture.completedFuture(List.<ObjectInfo>of());
            }
            return fence.get().thenCompose(x -> objects.delete(
                orphans.stream().map(ObjectInfo::key).toList())).thenApply(x -> orphans);
          });
    });
  }
}
