package io.stratus.scheduler;

import io.stratus.store.objectstore.ObjectInfo;
import io.stratus.store.objectstore.ObjectStore;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Where checkpoint and savepoint metadata live: {@code jobs/<job>/checkpoints/<n>/_metadata}
 * and {@code jobs/<job>/savepoints/<name>/_metadata}, written with a conditional write so two
 * coordinators can never complete the same checkpoint twice.
 */
public final class CheckpointStorage {

  private final ObjectStore objects;

  public CheckpointStorage(ObjectStore objects) {
    this.objects = objects;
  }

  public static String checkpointKey(String job, long checkpointId) {
    return "jobs/" + safe(job) + "/checkpoints/" + String.format("%012d", checkpointId)
        + "/_metadata";
  }

  public static String savepointKey(String job, String name) {
    return "jobs/" + safe(job) + "/savepoints/" + safe(name) + "/_metadata";
  }

  private static String safe(String s) {
    return s.replaceAll("[^A-Za-z0-9_.-]", "_");
  }

  /** Writes metadata; fails if an object already holds that checkpoint or savepoint. */
  public CompletableFuture<String> write(CheckpointMetadata metadata, String savepointName) {
    String key = savepointName != null ? savepointKey(metadata.job(), savepointName)
        : checkpointKey(metadata.job(), metadata.checkpointId());
    return objects.putIfAbsent(key, metadata.toJson()).thenApply(created -> {
      if (!created) {
        throw new IllegalStateException(key + " exists already: another coordinator completed "
            + "this " + metadata.kind());
      }
      return key;
    });
  }

  public CompletableFuture<CheckpointMetadata> read(String key) {
    return objects.get(key).thenApply(bytes -> CheckpointMetadata.parse(key, bytes));
  }

  /** The newest completed checkpoint of {@code job}, if any. */
  public CompletableFuture<Optional<CheckpointMetadata>> latest(String job) {
    return objects.list("jobs/" + safe(job) + "/checkpoints/").thenCompose(all -> {
      List<ObjectInfo> metadata = all.stream().filter(o -> o.key().endsWith("/_metadata"))
          .toList();
      if (metadata.isEmpty()) {
        return CompletableFuture.completedFuture(Optional.empty());
      }
      return read(metadata.get(metadata.size() - 1).key()).thenApply(Optional::of);
    });
  }

  public CompletableFuture<Void> delete(String key) {
    return objects.delete(List.of(key));
  }
}
