package io.stratus.scheduler;

import io.stratus.store.objectstore.ObjectInfo;
import io.stratus.store.objectstore.ObjectStore;
import java.util.Arrays;
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

  /**
   * Writes metadata; fails if an object already holds that checkpoint or savepoint. A write
   * that fails after its request may have reached the store (a lost response) is followed by a
   * delete of the key, so that no reader later takes the aborted checkpoint for a completed one.
   */
  public CompletableFuture<String> write(CheckpointMetadata metadata, String savepointName) {
    String key = savepointName != null ? savepointKey(metadata.job(), savepointName)
        : checkpointKey(metadata.job(), metadata.checkpointId());
    byte[] json = metadata.toJson();
    CompletableFuture<String> result = new CompletableFuture<>();
    objects.putIfAbsent(key, json).whenComplete((created, error) -> {
      if (error != null) {
        objects.delete(List.of(key)).whenComplete((v, e) -> result.completeExceptionally(error));
      } else if (created) {
        result.complete(key);
      } else {
        // A retried conditional write (its first response lost) finds what it wrote itself.
        objects.get(key).whenComplete((existing, e) -> {
          if (e != null) {
            result.completeExceptionally(e);
          } else if (Arrays.equals(existing, json)) {
            result.complete(key);
          } else {
            result.completeExceptionally(new IllegalStateException(key + " exists already: "
                + "another coordinator completed this " + metadata.kind()));
          }
        });
      }
    });
    return result;
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

  /** Fails, naming the store and the cause, unless the job's checkpoint folder can be listed. */
  public CompletableFuture<Void> probe(String job) {
    return objects.list("jobs/" + safe(job) + "/checkpoints/").thenApply(all -> null);
  }

  /** Where checkpoints are stored, for messages. */
  public String location() {
    return objects.location();
  }

  public CompletableFuture<Void> delete(String key) {
    return objects.delete(List.of(key));
  }
}
