package io.stratus.scheduler;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.scheduler.lease.CoordinatorLease;
import io.stratus.scheduler.lease.LeaseConfig;
import io.stratus.scheduler.lease.LeaseHolder;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.ObjectInfo;
import io.stratus.store.objectstore.ObjectStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two coordinators alive at once on one bucket: the first (A) runs a job that checkpoints
 * every 100 ms; a second (B) takes the lease over while A still runs (A looks dead to B: its
 * lease names a process that is gone, as after a long pause), 10 s before A's next renewal
 * would notice. From then on A completes no checkpoint, deletes no file, writes no job record,
 * and its job fails saying it lost the lease.
 */
class FencingTest {

  @TempDir
  Path dir;

  private EmbeddedCluster clusterA;
  private CoordinatorLease leaseB;

  @AfterEach
  void close() {
    if (clusterA != null) {
      clusterA.close();
    }
    if (leaseB != null) {
      leaseB.close();
    }
  }

  @Test
  void aDeposedCoordinatorCompletesNoCheckpointAndDeletesNothing() throws Exception {
    ObjectStore objects = new LocalDirectoryObjectStore(dir.resolve("bucket"));
    // A's lease names a process that has exited: B may take it over at once, while A, whose
    // next renewal is 10 s away, still believes it leads.
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor(10, TimeUnit.SECONDS);
    LeaseHolder me = LeaseHolder.thisProcess("coordinator A");
    LeaseHolder holderA = new LeaseHolder(me.owner(), gone.pid(), me.host(), me.bootId(),
        me.pidNamespace(), 0, "coordinator A");
    LeaseConfig slow = new LeaseConfig(Duration.ofSeconds(30), Duration.ofSeconds(10));
    CoordinatorLease leaseA = CoordinatorLease.acquire(objects, slow, holderA).join();
    clusterA = new EmbeddedCluster(objects, 2, BlockCacheConfig.memoryOnly(8 << 20),
        Duration.ofMillis(100), leaseA, null);
    JobDefinition job = TotalsJob.definition("fenced", objects, "out/fenced",
        dir.resolve("rocksdb"), 2, 5_000_000,
        CheckpointConfig.defaults().withInterval(Duration.ofMillis(100)).withRetained(1_000),
        RestartStrategy.fixedDelay(100, Duration.ofMillis(20)), 20_000);
    clusterA.catalog().register(job);
    JobController running = clusterA.coordinator().submit("fenced", null, Map.of());
    await().atMost(Duration.ofSeconds(60)).until(() ->
        running.status().get().completedCheckpoints() >= 5);

    leaseB = CoordinatorLease.acquire(objects, slow, LeaseHolder.thisProcess("coordinator B"))
        .join();
    assertEquals(leaseA.epoch() + 1, leaseB.epoch());
    // B takes the job's record, as it does before it recovers the job.
    new JobRecords(objects, leaseB.epoch()).take("fenced", previous ->
        previous.with(previous.attempt(), previous.parallelism(), true, leaseB.epoch())).join();
    // The one checkpoint A may have been completing when B took over (confirmed before) may
    // still land: at most one, never more.
    Set<String> checkpointsAtTakeover = keys(objects, "jobs/fenced/checkpoints/");
    Set<String> filesAtTakeover = keys(objects, "sst/");

    // A runs on, unaware, for seconds: its next checkpoint must find itself deposed.
    JobStatus end = running.result().get(30, TimeUnit.SECONDS);
    assertEquals(JobState.FAILED, end.state(), String.valueOf(end));
    assertTrue(end.lastFailure().contains("lease"), end.lastFailure());
    Set<String> added = added(checkpointsAtTakeover, objects, "jobs/fenced/checkpoints/");
    assertTrue(added.size() <= 1, "a deposed coordinator completed checkpoints: " + added);
    checkpointsAtTakeover.addAll(added);
    await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() ->
        added(checkpointsAtTakeover, objects, "jobs/fenced/checkpoints/").isEmpty());
    CompletionException refused = assertThrows(CompletionException.class,
        () -> leaseA.confirmHeld().join());
    assertTrue(refused.getCause().getMessage().contains("no longer holds the lease"),
        refused.getCause().getMessage());
    leaseB.confirmHeld().join();

    // Its deletes are fenced the same way: the sweep of files no checkpoint references, and
    // the retirement of old checkpoints.
    CheckpointStorage storage = new CheckpointStorage(objects);
    assertThrows(CompletionException.class, () -> new OrphanSweep(objects, storage,
        leaseA::confirmHeld).sweep(java.time.Instant.now()).join());
    CheckpointRetention retention = new CheckpointRetention("fenced", 1, storage,
        new io.stratus.store.lsm.SharedFileRegistry(objects), leaseA::confirmHeld);
    List<CheckpointStorage.RestorePoint> points = storage.allRestorePoints().join();
    retention.adoptAtStart(points.subList(0, points.size() - 1), null);
    CheckpointStorage.RestorePoint newest = points.get(points.size() - 1);
    retention.completed(newest.metadata(), newest.key());
    await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() ->
        keys(objects, "jobs/fenced/checkpoints/").equals(checkpointsAtTakeover)
            && keys(objects, "sst/").containsAll(filesAtTakeover));
    JobRecords.JobRecord record = JobRecords.parse(objects.get(JobRecords.key("fenced")).join());
    assertEquals(leaseB.epoch(), record.epoch());
    assertTrue(record.running(), "the deposed coordinator marked B's job as ended");
    assertThrows(CompletionException.class, () -> new JobRecords(objects, leaseA.epoch())
        .take("fenced", previous -> previous).join());
  }

  private static Set<String> added(Set<String> before, ObjectStore objects, String prefix) {
    Set<String> now = keys(objects, prefix);
    now.removeAll(before);
    return now;
  }

  private static Set<String> keys(ObjectStore objects, String prefix) {
    List<ObjectInfo> all = objects.list(prefix).join();
    return all.stream().map(ObjectInfo::key).collect(Collectors.toCollection(HashSet::new));
  }
}
