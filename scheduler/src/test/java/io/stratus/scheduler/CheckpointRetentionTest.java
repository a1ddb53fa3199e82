package io.stratus.scheduler;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.runtime.state.StateHandle;
import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.lsm.SharedFileRegistry;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which checkpoints a job keeps, and which files retiring the others may delete. */
class CheckpointRetentionTest {

  @TempDir
  Path dir;

  private LocalDirectoryObjectStore objects;
  private CheckpointStorage storage;
  private SharedFileRegistry registry;
  private final AtomicBoolean leaseHeld = new AtomicBoolean(true);

  @BeforeEach
  void open() {
    objects = new LocalDirectoryObjectStore(dir.resolve("bucket"));
    storage = new CheckpointStorage(objects);
    registry = new SharedFileRegistry(objects);
  }

  @AfterEach
  void close() {
    objects.close();
  }

  /** A checkpoint or savepoint of {@code job} whose one task uses {@code files}; written. */
  private CheckpointMetadata written(String job, long id, String savepoint, String... files) {
    for (String f : files) {
      objects.put(f, new byte[] {1}).join();
    }
    String manifest = "versions/" + job + "-" + id + "/1.json";
    objects.put(manifest, new byte[] {1}).join();
    CheckpointMetadata m = new CheckpointMetadata(job, id, savepoint == null
        ? CheckpointMetadata.CHECKPOINT : CheckpointMetadata.SAVEPOINT, id, "disaggregated", 8,
        List.of(), List.of(new CheckpointMetadata.Operator("op", 1, List.of(
            new CheckpointMetadata.TaskState(0, KeyGroupRange.all(8), new StateHandle(
                "disaggregated", job + "-" + id, 1, manifest, KeyGroupRange.all(8), 8,
                List.of(files)))))), List.of());
    storage.write(m, savepoint).join();
    return m;
  }

  private boolean exists(String key) {
    return objects.head(key).join().isPresent();
  }

  private CheckpointRetention retention(String job, int retain) {
    return new CheckpointRetention(job, retain, storage, registry, () -> leaseHeld.get()
        ? CompletableFuture.completedFuture(null)
        : CompletableFuture.failedFuture(new IllegalStateException("lease lost")));
  }

  @Test
  void anotherJobsSavepointKeepsItsFilesWhenThisJobsCheckpointsRetire() {
    // Job b started from job a's savepoint, so its first checkpoint shares sst/shared.
    written("a", 5, "base", "sst/shared", "sst/a-only");
    CheckpointMetadata b1 = written("b", 6, null, "sst/shared", "sst/b1");
    written("b", 7, null, "sst/b2");
    // A new coordinator: everything under the prefix is adopted.
    CheckpointRetention b = retention("b", 1);
    long next = b.adoptAtStart(storage.allRestorePoints().join(), null);
    assertEquals(8, next);
    b.completed(written("b", 8, null, "sst/b3"), CheckpointStorage.checkpointKey("b", 8));

    await().atMost(Duration.ofSeconds(10)).until(() -> !exists("sst/b1") && !exists("sst/b2"));
    assertTrue(exists("sst/shared"), "a file of a's savepoint was deleted with b's checkpoint");
    assertTrue(exists("sst/a-only"));
    assertTrue(exists("sst/b3"));
    assertTrue(exists(CheckpointStorage.savepointKey("a", "base")));
    assertTrue(!exists(CheckpointStorage.checkpointKey("b", b1.checkpointId())));
  }

  @Test
  void nothingIsDeletedOnceTheLeaseIsLost() {
    CheckpointRetention job = retention("j", 1);
    job.adoptAtStart(List.of(), null);
    job.completed(written("j", 1, null, "sst/one"), CheckpointStorage.checkpointKey("j", 1));
    leaseHeld.set(false);
    job.completed(written("j", 2, null, "sst/two"), CheckpointStorage.checkpointKey("j", 2));
    List<String> left = new ArrayList<>();
    objects.list("").join().forEach(o -> left.add(o.key()));
    assertTrue(left.contains("sst/one") && left.contains(CheckpointStorage.checkpointKey("j", 1)),
        "retired without the lease: " + left);
  }
}
