package io.stratus.store.lsm;

import io.stratus.store.objectstore.ObjectStore;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Reference counts of the objects that completed checkpoints point at (SST files and version
 * manifests), kept by the coordinator: once a checkpoint completes, its files belong to the
 * coordinator, and a file is deleted when the last retained checkpoint that references it is
 * released. Savepoints are never released, so their files stay.
 *
 * <p>In memory: after a coordinator restart, rebuild it by registering the retained checkpoints
 * again. Thread-safe.
 */
public final class SharedFileRegistry {

  private final ObjectStore objects;
  private final Map<String, Integer> counts = new HashMap<>();
  private final Map<String, Set<String>> byCheckpoint = new HashMap<>();

  public SharedFileRegistry(ObjectStore objects) {
    this.objects = objects;
  }

  /**
   * Records that checkpoint {@code checkpointId} references the files and manifests of
   * {@code handles}.
   *
   * @throws IllegalArgumentException if the checkpoint is registered already
   */
  public synchronized void register(String checkpointId, Collection<CheckpointHandle> handles) {
    if (byCheckpoint.containsKey(checkpointId)) {
      throw new IllegalArgumentException("checkpoint " + checkpointId + " is registered already");
    }
    Set<String> objectsOfCheckpoint = new LinkedHashSet<>();
    for (CheckpointHandle h : handles) {
      objectsOfCheckpoint.add(h.manifestKey());
      objectsOfCheckpoint.addAll(h.files());
    }
    for (String key : objectsOfCheckpoint) {
      counts.merge(key, 1, Integer::sum);
    }
    byCheckpoint.put(checkpointId, objectsOfCheckpoint);
  }

  /**
   * Forgets checkpoint {@code checkpointId} and deletes the objects no other registered
   * checkpoint references.
   *
   * @return the deleted object keys, once deleted
   */
  public CompletableFuture<List<String>> release(String checkpointId) {
    List<String> unreferenced = new ArrayList<>();
    synchronized (this) {
      Set<String> keys = byCheckpoint.remove(checkpointId);
      if (keys == null) {
        return CompletableFuture.failedFuture(new IllegalArgumentException(
            "checkpoint " + checkpointId + " is not registered"));
      }
      for (String key : keys) {
        int left = counts.merge(key, -1, Integer::sum);
        if (left == 0) {
          counts.remove(key);
          unreferenced.add(key);
        }
      }
    }
    if (unreferenced.isEmpty()) {
      return CompletableFuture.completedFuture(List.of());
    }
    return objects.delete(unreferenced).thenApply(v -> List.copyOf(unreferenced));
  }

  /** How many registered checkpoints reference {@code key}. */
  public synchronized int referenceCount(String key) {
    return counts.getOrDefault(key, 0);
  }

  /** Every object some registered checkpoint references. */
  public synchronized Set<String> referencedObjects() {
    return Set.copyOf(counts.keySet());
  }

  /** The registered checkpoints. */
  public synchronized Set<String> checkpoints() {
    return Set.copyOf(byCheckpoint.keySet());
  }
}
