package io.stratus.scheduler;

import static io.stratus.scheduler.JobProgress.awaitCheckpoint;
import static io.stratus.scheduler.JobProgress.newestCheckpoint;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.store.lsm.CheckpointHandle;
import io.stratus.store.objectstore.FaultInjector;
import io.stratus.store.objectstore.FaultInjector.Operation;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.NetworkModel;
import io.stratus.store.objectstore.ObjectStoreException;
import io.stratus.store.objectstore.SimulatedNetworkObjectStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoint metadata, retention and GC, savepoints (also restored at another parallelism), and
 * checkpoints that fail: aborted cleanly while the previous one stays valid.
 */
class CheckpointLifecycleTest {

  private static final long EVENTS = 300_000;

  @TempDir
  Path dir;

  private SimulatedNetworkObjectStore objects;
  private EmbeddedCluster cluster;

  @BeforeEach
  void start() {
    objects = new SimulatedNetworkObjectStore(new LocalDirectoryObjectStore(dir.resolve("bucket")),
        NetworkModel.none());
    cluster = new EmbeddedCluster(objects, 2, BlockCacheConfig.memoryOnly(8 << 20),
        Duration.ofMillis(100));
  }

  @AfterEach
  void stop() {
    cluster.close();
  }

  /**
   * Registers the totals job, paced at 150k payments/s: its 300k payments last 2 s or more on
   * any machine, time for the checkpoints, savepoints and faults the tests need before it ends.
   */
  private JobDefinition register(String name, CheckpointConfig checkpoints,
      RestartStrategy restarts) {
    JobDefinition job = TotalsJob.definition(name, objects, "out/" + name, dir.resolve("local"),
        3, EVENTS, checkpoints, restarts, 150_000);
    cluster.catalog().register(job);
    return job;
  }

  private static CheckpointConfig every(long millis) {
    return CheckpointConfig.defaults().withInterval(Duration.ofMillis(millis)).withRetained(2)
        .withMinPause(Duration.ZERO);
  }

  private static JobStatus await(JobController job) throws Exception {
    return job.result().get(120, TimeUnit.SECONDS);
  }

  private boolean exists(String key) {
    return objects.head(key).join().isPresent();
  }

  private static Set<String> objectsOf(CheckpointMetadata m) {
    Set<String> out = new HashSet<>();
    for (CheckpointHandle h : m.checkpointHandles()) {
      out.add(h.manifestKey());
      out.addAll(h.files());
    }
    return out;
  }

  @Test
  void metadataRoundTripsThroughJsonAndStorage() throws Exception {
    register("roundtrip", every(100), RestartStrategy.none());
    JobController job = cluster.coordinator().submit("roundtrip", null, Map.of());
    awaitCheckpoint(job, 0);
    CheckpointMetadata saved = job.triggerSavepoint("sp").get(30, TimeUnit.SECONDS);
    job.cancel().get(30, TimeUnit.SECONDS);

    assertEquals(saved, CheckpointMetadata.parse("x", saved.toJson()));
    CheckpointMetadata read = cluster.coordinator().storage()
        .read(CheckpointStorage.savepointKey("roundtrip", "sp")).get(10, TimeUnit.SECONDS);
    assertEquals(saved, read);
    assertEquals(CheckpointMetadata.SAVEPOINT, read.kind());
    assertEquals(1, read.sources().size());
    assertEquals(3, read.operator(TotalsJob.OPERATOR).tasks().size());
    String json = new String(read.toJson(), StandardCharsets.UTF_8);
    assertTrue(json.contains("\"uid\" : \"totals\""), json);

    IllegalArgumentException garbage = assertThrows(IllegalArgumentException.class,
        () -> CheckpointMetadata.parse("jobs/x/checkpoints/7/_metadata", "{\"job\":".getBytes()));
    assertTrue(garbage.getMessage().contains("jobs/x/checkpoints/7/_metadata"),
        garbage.getMessage());
    IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
        () -> CheckpointMetadata.parse("k/_metadata", "{}".getBytes()));
    assertTrue(empty.getMessage().contains("k/_metadata"), empty.getMessage());
  }

  @Test
  void gcDeletesWhatNoRetainedCheckpointOrSavepointReferencesAndNothingElse() throws Exception {
    register("gc", every(60), RestartStrategy.none());
    JobController job = cluster.coordinator().submit("gc", null, Map.of());
    Map<Long, CheckpointMetadata> seen = new TreeMap<>();
    CheckpointMetadata savepoint = null;
    while (!job.result().isDone()) {
      CheckpointMetadata m = job.latestCheckpoint().get(10, TimeUnit.SECONDS);
      if (m != null && m.kind().equals(CheckpointMetadata.CHECKPOINT)) {
        seen.put(m.checkpointId(), m);
      }
      if (savepoint == null && seen.size() >= 3) {
        savepoint = job.triggerSavepoint("keep").get(30, TimeUnit.SECONDS);
      }
      Thread.sleep(2);
    }
    assertEquals(JobState.FINISHED, await(job).state());
    assertTrue(savepoint != null && seen.size() >= 6, "too few checkpoints: " + seen.keySet());

    List<Long> ids = new ArrayList<>(seen.keySet());
    List<JobStatus.CheckpointSummary> completed = job.status().get().checkpoints().stream()
        .filter(c -> c.kind().equals(CheckpointMetadata.CHECKPOINT)).toList();
    for (JobStatus.CheckpointSummary c : completed) {
      // Each phase lies within the checkpoint (1 ms of rounding per clock).
      for (long phase : new long[] {c.alignMillis(), c.drainMillis(), c.snapshotMillis(),
          c.finalizeMillis()}) {
        assertTrue(phase >= 0 && phase <= c.durationMillis() + 2, c.toString());
      }
    }
    List<CheckpointMetadata> retained = new ArrayList<>();
    for (JobStatus.CheckpointSummary c : completed.subList(completed.size() - 2,
        completed.size())) {
      retained.add(cluster.coordinator().storage().read(c.metadataKey()).get());
    }
    Set<String> referenced = new HashSet<>(objectsOf(savepoint));
    Set<Long> retainedIds = new HashSet<>();
    for (CheckpointMetadata m : retained) {
      referenced.addAll(objectsOf(m));
      retainedIds.add(m.checkpointId());
    }
    Set<String> retiredOnly = new HashSet<>();
    for (long id : ids) {
      if (!retainedIds.contains(id)) {
        retiredOnly.addAll(objectsOf(seen.get(id)));
      }
    }
    retiredOnly.removeAll(referenced);
    assertFalse(retiredOnly.isEmpty(), "compaction replaced no file in " + ids.size()
        + " checkpoints; the test proves nothing");

    // Retiring runs after each completion; give the last deletes a moment.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (retiredOnly.stream().anyMatch(this::exists) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    for (String key : retiredOnly) {
      assertFalse(exists(key), "unreferenced " + key + " was not deleted");
    }
    for (String key : referenced) {
      assertTrue(exists(key), "referenced " + key + " was deleted");
    }
    assertEquals(referenced, cluster.coordinator().registry().referencedObjects());
    for (long id : ids) {
      assertEquals(retainedIds.contains(id),
          exists(CheckpointStorage.checkpointKey("gc", id)), "metadata of checkpoint " + id);
    }
    assertTrue(exists(CheckpointStorage.savepointKey("gc", "keep")));
  }

  @Test
  void stopWithSavepointThenRestoreAtOtherParallelismsGivesTheUninterruptedOutput()
      throws Exception {
    List<String> expected = TotalsJob.expectedOutput(EVENTS);
    JobDefinition first = register("first", every(100), RestartStrategy.none());
    JobController running = cluster.coordinator().submit("first", null, Map.of());
    awaitCheckpoint(running, 1);
    CheckpointMetadata savepoint = running.stopWithSavepoint("sp").get(30, TimeUnit.SECONDS);
    assertEquals(JobState.CANCELED, await(running).state());
    List<String> before = TotalsJob.committedOutput(first);
    assertTrue(before.size() > 0 && before.size() < EVENTS, "savepoint at " + before.size());

    String key = CheckpointStorage.savepointKey("first", "sp");
    for (int parallelism : new int[] {5, 2}) {
      CheckpointMetadata restore = cluster.coordinator().storage().read(key).get();
      assertEquals(savepoint, restore);
      String name = "resumed-p" + parallelism;
      JobDefinition resumed = register(name, every(50), RestartStrategy.none());
      JobController job = cluster.coordinator().submit(name, restore,
          Map.of(TotalsJob.OPERATOR, parallelism));
      JobStatus status = await(job);
      assertEquals(JobState.FINISHED, status.state(), String.valueOf(status));
      assertEquals(parallelism, status.parallelism().get(TotalsJob.OPERATOR));
      assertTrue(status.checkpoints().size() > 2, "the resumed job retired no checkpoint");
      List<String> all = new ArrayList<>(before);
      all.addAll(TotalsJob.committedOutput(resumed));
      all.sort(null);
      assertEquals(expected, all, "savepoint + run at parallelism " + parallelism);
    }
    assertTrue(exists(key));
    for (String object : objectsOf(savepoint)) {
      assertTrue(exists(object), "savepoint file " + object + " was deleted");
    }
  }

  /**
   * A second coordinator on the same prefix (after the first closed) takes over what the first
   * left: its checkpoints retire under the job's retention, new checkpoints are numbered after
   * them, and a savepoint's files stay although the checkpoints that share them retire.
   */
  @Test
  void aNewCoordinatorAdoptsWhatTheLastOneLeft() throws Exception {
    CheckpointConfig checkpoints = every(100);
    // Paced: the input outlasts both runs on any machine.
    java.util.function.Supplier<JobDefinition> paced = () -> TotalsJob.definition("adopted",
        objects, "out/adopted", dir.resolve("local"), 3, EVENTS, checkpoints,
        RestartStrategy.none(), 40_000);
    cluster.catalog().register(paced.get());
    JobController first = cluster.coordinator().submit("adopted", null, Map.of());
    awaitCheckpoint(first, 2);
    CheckpointMetadata savepoint = first.triggerSavepoint("keep").get(30, TimeUnit.SECONDS);
    awaitCheckpoint(first, savepoint.checkpointId() + 1);
    first.cancel().get(30, TimeUnit.SECONDS);
    cluster.close();
    List<CheckpointStorage.RestorePoint> left = new CheckpointStorage(objects)
        .restorePoints("adopted").get();
    long highest = left.stream().mapToLong(r -> r.metadata().checkpointId()).max().orElseThrow();
    assertEquals(checkpoints.retained() + 1, left.size(), "retained checkpoints and a savepoint: "
        + left);

    cluster = new EmbeddedCluster(objects, 2, BlockCacheConfig.memoryOnly(8 << 20),
        Duration.ofMillis(100));
    cluster.catalog().register(paced.get());
    CheckpointMetadata oldest = left.get(0).metadata();
    // Started from the oldest checkpoint: the newer ones the first run left must not collide.
    JobController second = cluster.coordinator().submit("adopted", oldest, Map.of());
    awaitCheckpoint(second, highest + checkpoints.retained() + 1);
    List<CheckpointStorage.RestorePoint> now = cluster.coordinator().storage()
        .restorePoints("adopted").get();
    List<Long> ids = new ArrayList<>();
    for (CheckpointStorage.RestorePoint r : now) {
      if (r.metadata().kind().equals(CheckpointMetadata.CHECKPOINT)) {
        ids.add(r.metadata().checkpointId());
        assertTrue(r.metadata().checkpointId() > highest, "the first run's checkpoint "
            + r.name() + " was never retired: " + now);
      }
    }
    assertTrue(ids.size() <= checkpoints.retained() + 1, "retained " + ids);
    assertEquals(0, second.status().get().abortedCheckpoints(), "a checkpoint number was "
        + "taken twice");
    assertTrue(exists(CheckpointStorage.savepointKey("adopted", "keep")));
    for (String object : objectsOf(savepoint)) {
      assertTrue(exists(object), "savepoint file " + object + " was deleted");
    }
    second.cancel().get(30, TimeUnit.SECONDS);
  }

  @Test
  void deniedCheckpointWritesAbortCheckpointsAndTheJobGoesOnWithoutRestart() throws Exception {
    List<String> expected = TotalsJob.expectedOutput(EVENTS);
    JobDefinition definition = register("denied", every(50), RestartStrategy.none());
    JobController job = cluster.coordinator().submit("denied", null, Map.of());
    awaitCheckpoint(job, 0);

    // Manifests and metadata denied: tasks decline (their staged output is carried) or the
    // coordinator cannot write _metadata.
    objects.setFaults(FaultInjector.denyWrites(
        k -> k.startsWith("versions/") || k.endsWith("/_metadata")));
    // A checkpoint may have been writing its metadata as the faults began: the valid one is
    // the newest once a checkpoint has been aborted since (one runs at a time).
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    long abortedBefore = job.status().get().abortedCheckpoints();
    while (job.status().get().abortedCheckpoints() <= abortedBefore) {
      assertTrue(System.nanoTime() < deadline, "no checkpoint was aborted");
      Thread.sleep(5);
    }
    CheckpointMetadata valid = job.latestCheckpoint().get();
    String validKey = CheckpointStorage.checkpointKey("denied", valid.checkpointId());
    while (job.status().get().abortedCheckpoints() < abortedBefore + 4) {
      assertTrue(System.nanoTime() < deadline, "checkpoints were not aborted");
      Thread.sleep(5);
    }
    assertEquals(valid.checkpointId(), job.latestCheckpoint().get().checkpointId());
    assertEquals(valid, cluster.coordinator().storage().read(validKey).get());
    for (String object : objectsOf(valid)) {
      assertTrue(exists(object), object + " of the valid checkpoint is gone");
    }
    objects.setFaults(FaultInjector.NONE);
    awaitCheckpoint(job, valid.checkpointId());

    JobStatus status = await(job);
    assertEquals(JobState.FINISHED, status.state(), String.valueOf(status));
    assertEquals(0, status.restarts(), "aborted checkpoints must not restart the job");
    assertEquals(expected, TotalsJob.committedOutput(definition));
  }

  @Test
  void checkpointsThatKeepTimingOutRestartTheAttemptAndLoseNothing() throws Exception {
    List<String> expected = TotalsJob.expectedOutput(EVENTS);
    JobDefinition definition = register("stuck",
        every(50).withTimeout(Duration.ofMillis(300)).withTolerableTimeouts(1),
        RestartStrategy.fixedDelay(1_000, Duration.ofMillis(50)));
    JobController job = cluster.coordinator().submit("stuck", null, Map.of());
    awaitCheckpoint(job, 1);
    // Every request now takes a second: no checkpoint can complete within 300 ms.
    objects.setModel(new NetworkModel(Duration.ofSeconds(1), 100_000_000));
    // A restart counts once the failed attempt's tasks are canceled, which with every request
    // taking a second may be a while after the failure is reported.
    Awaitility.await("a restart after two timeouts in a row").atMost(Duration.ofSeconds(30))
        .until(() -> {
          JobStatus s = job.status().get();
          return s.restarts() >= 1
              && String.valueOf(s.lastFailure()).contains("2 checkpoints in a row timed out");
        });
    JobStatus during = job.status().get();
    assertTrue(during.lastFailure().contains("waited PT0.3S for tasks ["), during.lastFailure());
    objects.setModel(NetworkModel.none());

    JobStatus status = await(job);
    assertEquals(JobState.FINISHED, status.state(), String.valueOf(status));
    assertEquals(expected, TotalsJob.committedOutput(definition));
  }

  @Test
  void s3DownForASecondAbortsCheckpointsAndRecoveryLosesNothing() throws Exception {
    List<String> expected = TotalsJob.expectedOutput(EVENTS);
    JobDefinition definition = register("s3down",
        every(50).withTimeout(Duration.ofMillis(400)),
        RestartStrategy.fixedDelay(1_000, Duration.ofMillis(50)));
    JobController job = cluster.coordinator().submit("s3down", null, Map.of());
    awaitCheckpoint(job, 1);
    long before = newestCheckpoint(job);
    objects.setFaults((op, key) -> op == Operation.PUT || op == Operation.PUT_IF_ABSENT
        ? new ObjectStoreException(op + " " + key + " failed: 503 Service Unavailable (down)")
        : null);
    Thread.sleep(1_000);
    assertEquals(before, newestCheckpoint(job), "a checkpoint completed while S3 was down");
    // A checkpoint in flight is aborted, or staging sink output fails a task first and the
    // restart aborts it: either way the outage must have been noticed.
    JobStatus during = job.status().get();
    assertTrue(during.abortedCheckpoints() + during.restarts() >= 1, String.valueOf(during));
    objects.setFaults(FaultInjector.NONE);

    JobStatus status = await(job);
    assertEquals(JobState.FINISHED, status.state(), String.valueOf(status));
    assertEquals(expected, TotalsJob.committedOutput(definition));
  }
}
