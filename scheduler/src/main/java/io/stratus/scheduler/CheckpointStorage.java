package io.stratus.scheduler;

import io.stratus.store.objectstore.ObjectInfo;
import io.stratus.store.objectstore.ObjectStore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where checkpoint and savepoint metadata live: {@code jobs/<job>/checkpoints/<n>/_metadata}
 * and {@code jobs/<job>/savepoints/<name>/_metadata}, written with a conditional write so two
 * coordinators can never complete the same checkpoint twice.
 */
public final class CheckpointStorage {

  private static final Logger LOG = LoggerFactory.getLogger(CheckpointStorage.class);

  private final ObjectStore objects;
  /** The same store, for the metadata write a checkpoint waits for. */
  private final ObjectStore urgent;

  public CheckpointStorage(ObjectStore objects) {
    this.objects = objects;
    this.urgent = objects.urgent();
  }

  public static String checkpointKey(String job, long checkpointId) {
    return "jobs/" + safe(job) + "/checkpoints/" + String.format("%012d", checkpointId)
        + "/_metadata";
  }

  public static String savepointKey(String job, String name) {
    return "jobs/" + safe(job) + "/savepoints/" + safe(name) + "/_metadata";
  }

  static String safe(String s) {
    return s.replaceAll("[^A-Za-z0-9_.-]", "_");
  }

  /**
   * Writes metadata; fails if an object already holds that checkpoint or savepoint. A write
   * that fails after its request may have reached the store (a lost response) is followed by a
   * delete of the key, so that no reader later takes the aborted checkpoint for a completed one.
   * Its requests go ahead of the block reads queued at a store the workers share (an embedded
   * cluster): a checkpoint is not complete until they are done.
   */
  public CompletableFuture<String> write(CheckpointMetadata metadata, String savepointName) {
    String key = savepointName != null ? savepointKey(metadata.job(), savepointName)
        : checkpointKey(metadata.job(), metadata.checkpointId());
    byte[] json = metadata.toJson();
    CompletableFuture<String> result = new CompletableFuture<>();
    urgent.putIfAbsent(key, json).whenComplete((created, error) -> {
      if (error != null) {
        urgent.delete(List.of(key)).whenComplete((v, e) -> result.completeExceptionally(error));
      } else if (created) {
        result.complete(key);
      } else {
        // A retried conditional write (its first response lost) finds what it wrote itself.
        urgent.get(key).whenComplete((existing, e) -> {
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

  /**
   * A completed checkpoint or savepoint of a job, as listed for users.
   *
   * @param key      where its metadata is
   * @param name     the savepoint's name, or the checkpoint's number
   * @param metadata its metadata
   */
  public record RestorePoint(String key, String name, CheckpointMetadata metadata) {

    /**
     * The sum of the sources' split offsets when it was taken: for sources that count records,
     * the records they had emitted.
     */
    public long sourceRecords() {
      return metadata.sources().stream().mapToLong(CheckpointMetadata.SourceSplit::offsetSum)
          .sum();
    }
  }

  /**
   * Every retained checkpoint and savepoint of {@code job}, oldest first (by completion time).
   * Metadata that cannot be read is skipped with a warning, so one corrupt object does not hide
   * the others.
   */
  public CompletableFuture<List<RestorePoint>> restorePoints(String job) {
    return restorePointsUnder("jobs/" + safe(job) + "/");
  }

  /** Every retained checkpoint and savepoint of every job under this prefix, oldest first. */
  public CompletableFuture<List<RestorePoint>> allRestorePoints() {
    return restorePointsUnder("jobs/");
  }

  private CompletableFuture<List<RestorePoint>> restorePointsUnder(String root) {
    return objects.list(root).thenCompose(all -> {
      List<CompletableFuture<Optional<RestorePoint>>> reads = new ArrayList<>();
      for (ObjectInfo o : all) {
        // jobs/<job>/checkpoints/<n>/_metadata or jobs/<job>/savepoints/<name>/_metadata
        String[] parts = o.key().split("/");
        if (parts.length == 5 && parts[4].equals("_metadata")
            && (parts[2].equals("checkpoints") || parts[2].equals("savepoints"))) {
          String name = parts[2].equals("checkpoints")
              ? String.valueOf(Long.parseLong(parts[3])) : parts[3];
          reads.add(read(o.key()).handle((m, e) -> {
            if (e != null) {
              LOG.warn("Skipping {}: {}", o.key(), e.getMessage());
              return Optional.empty();
            }
            return Optional.of(new RestorePoint(o.key(), name, m));
          }));
        }
      }
      return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenApply(v -> {
        List<RestorePoint> out = new ArrayList<>();
        reads.forEach(r -> r.join().ifPresent(out::add));
        out.sort(Comparator.comparingLong(r -> r.metadata().timestamp()));
        return out;
      });
    });
  }

  /**
   * Finds what {@code reference} names among {@code job}'s restore points: {@code latest} (the
   * newest checkpoint or savepoint), a savepoint's name, a checkpoint's number, or a metadata
   * key.
   *
   * @throws IllegalArgumentException (in the future) naming the reference and what exists
   */
  public CompletableFuture<RestorePoint> resolve(String job, String reference) {
    return restorePoints(job).thenCompose(all -> {
      if (reference.equals(LATEST)) {
        if (all.isEmpty()) {
          throw new IllegalArgumentException("job '" + job + "' has no checkpoint or savepoint "
              + "in " + location() + " to start from");
        }
        return CompletableFuture.completedFuture(all.get(all.size() - 1));
      }
      for (RestorePoint r : all) {
        if (r.key().equals(reference) || r.name().equals(reference)
            && r.metadata().kind().equals(CheckpointMetadata.SAVEPOINT)) {
          return CompletableFuture.completedFuture(r);
        }
      }
      for (RestorePoint r : all) {
        if (r.name().equals(reference)) {
          return CompletableFuture.completedFuture(r);
        }
      }
      if (reference.startsWith("jobs/") && reference.endsWith("/_metadata")) {
        // Another job's savepoint, named by its key.
        return read(reference).handle((m, e) -> {
          if (e != null) {
            throw new IllegalArgumentException("no checkpoint or savepoint at " + reference
                + " in " + location() + ": " + Failures.message(e));
          }
          return new RestorePoint(reference, reference, m);
        });
      }
      throw new IllegalArgumentException("job '" + job + "' has no savepoint or checkpoint '"
          + reference + "' in " + location() + "; it has " + (all.isEmpty() ? "none"
          : all.stream().map(r -> r.metadata().kind() + " " + r.name()).toList()));
    });
  }

  /** The reference {@link #resolve} takes for the newest checkpoint or savepoint. */
  public static final String LATEST = "latest";

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
