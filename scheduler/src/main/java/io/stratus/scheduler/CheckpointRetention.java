package io.stratus.scheduler;

import io.stratus.store.lsm.SharedFileRegistry;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which of a job's completed checkpoints are kept, and the files they hold: every completed
 * checkpoint and savepoint is registered with the coordinator's {@link SharedFileRegistry}; the
 * newest {@link CheckpointConfig#retained()} checkpoints are kept, older ones are deleted
 * (metadata first, then the files no other registered one uses); savepoints are never
 * released. What earlier runs of the job left in the bucket is adopted at start, so retention
 * goes on across coordinator restarts and a savepoint's files are never deleted by a
 * checkpoint that shares them. Confined to the job controller's context.
 */
final class CheckpointRetention {

  private static final Logger LOG = LoggerFactory.getLogger(CheckpointRetention.class);

  private record Retained(long id, String key, String registryId) {}

  private final String job;
  private final int retain;
  private final CheckpointStorage storage;
  private final SharedFileRegistry registry;
  private final Supplier<CompletableFuture<Void>> fence;
  private final Deque<Retained> retained = new ArrayDeque<>();

  /**
   * @param fence completes when deleting is allowed now, fails once the coordinator lost its
   *              lease ({@link io.stratus.scheduler.lease.CoordinatorLease#confirmHeld})
   */
  CheckpointRetention(String job, int retain, CheckpointStorage storage,
      SharedFileRegistry registry, Supplier<CompletableFuture<Void>> fence) {
    this.job = job;
    this.retain = retain;
    this.storage = storage;
    this.registry = registry;
    this.fence = fence;
  }

  /**
   * Takes over what earlier runs left under the prefix, oldest first: every job's checkpoints
   * and savepoints are registered (files are shared across jobs when one started from
   * another's savepoint or checkpoint, and only a reference count that knows all of them
   * keeps them), this job's checkpoints join its retention, and so does the point the job
   * starts from.
   *
   * @param earlier every job's checkpoints and savepoints under the prefix
   * @return the number after every checkpoint of this job: a checkpoint's metadata key is
   *         written only once, so new checkpoints must be numbered after all of them
   */
  long adoptAtStart(List<CheckpointStorage.RestorePoint> earlier, CheckpointMetadata startFrom) {
    List<CheckpointMetadata> all = new ArrayList<>();
    long next = 1;
    for (CheckpointStorage.RestorePoint p : earlier) {
      all.add(p.metadata());
      if (p.metadata().job().equals(job)) {
        next = Math.max(next, p.metadata().checkpointId() + 1);
      }
    }
    if (startFrom != null) {
      all.add(startFrom);
      next = Math.max(next, startFrom.checkpointId() + 1);
    }
    all.sort((a, b) -> Long.compare(a.checkpointId(), b.checkpointId()));
    for (CheckpointMetadata m : all) {
      // An earlier submission in this coordinator may have registered it already.
      register(m, CheckpointStorage.checkpointKey(m.job(), m.checkpointId()));
    }
    return next;
  }

  /**
   * Registers a checkpoint or savepoint whose metadata is written; a checkpoint of this job
   * joins the retained ones and the oldest beyond the count are deleted.
   */
  void completed(CheckpointMetadata m, String key) {
    register(m, key);
    retire();
  }

  private void register(CheckpointMetadata m, String key) {
    String id = registryId(m);
    if (retained.stream().anyMatch(r -> r.registryId().equals(id))) {
      return;
    }
    if (!registry.checkpoints().contains(id)) {
      registry.register(id, m.checkpointHandles());
    }
    if (m.kind().equals(CheckpointMetadata.CHECKPOINT) && m.job().equals(job)) {
      retained.addLast(new Retained(m.checkpointId(), key, id));
    }
  }

  /** Deletes the oldest checkpoints beyond the retained count, and files only they used. */
  private void retire() {
    while (retained.size() > retain) {
      Retained old = retained.removeFirst();
      // Metadata first: a crash in between leaves orphaned files, never a checkpoint whose
      // files are gone. Nothing at all once this coordinator may have been deposed.
      fence.get().thenCompose(v -> storage.delete(old.key()))
          .thenCompose(v -> registry.release(old.registryId()))
          .whenComplete((v, e) -> {
            if (e != null) {
              LOG.warn("Retiring checkpoint {} of job {} failed: {}", old.id(), job,
                  e.getMessage());
            }
          });
    }
  }

  /** The registry's name for a completed checkpoint or savepoint. */
  static String registryId(CheckpointMetadata m) {
    return m.job() + "/" + m.kind() + ":" + m.checkpointId();
  }
}
