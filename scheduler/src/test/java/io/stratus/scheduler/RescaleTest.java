package io.stratus.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Live rescales: any sequence of them leaves the output of an uninterrupted run. */
class RescaleTest {

  private static final long EVENTS = 500_000;

  @TempDir
  Path dir;

  private EmbeddedCluster cluster;

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private JobController submit(String name) {
    return submit(name, CheckpointConfig.defaults().withInterval(Duration.ofMillis(200))
        .withRetained(2), EVENTS);
  }

  private JobController submit(String name, CheckpointConfig checkpoints, long events) {
    LocalDirectoryObjectStore objects = new LocalDirectoryObjectStore(dir.resolve("bucket"));
    cluster = new EmbeddedCluster(objects, 3, BlockCacheConfig.memoryOnly(8 << 20),
        Duration.ofMillis(100));
    cluster.catalog().register(TotalsJob.definition(name, objects, "out/" + name,
        dir.resolve("local"), 2, events, checkpoints,
        // At most 80k payments/s: the input lasts longer than the rescales on any machine.
        RestartStrategy.none(), 80_000));
    return cluster.coordinator().submit(name, null, Map.of());
  }

  private static void awaitRunning(JobController job) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (job.status().get().state() != JobState.RUNNING) {
      assertTrue(System.nanoTime() < deadline, "the job does not run");
      Thread.sleep(5);
    }
  }

  @Test
  void anySequenceOfRescalesGivesTheUninterruptedOutput() throws Exception {
    JobController job = submit("rescaled");
    awaitRunning(job);
    int[] sequence = {4, 1, 3, 2, 5};
    List<RescaleReport> reports = new ArrayList<>();
    for (int p : sequence) {
      Thread.sleep(100);
      // Every rescale of the sequence runs: the sources are halted while one is under way, so
      // the input (at most 80k payments/s) cannot run out between them.
      RescaleReport r = job.rescale(Map.of(TotalsJob.OPERATOR, p)).get(60, TimeUnit.SECONDS);
      reports.add(r);
      assertEquals(Map.of(TotalsJob.OPERATOR, p), r.to());
      JobStatus s = job.status().get();
      assertEquals(p, s.parallelism().get(TotalsJob.OPERATOR));
      List<KeyGroupRange> ranges = s.tasks().stream().filter(t -> t.keyGroups() != null)
          .map(JobStatus.TaskStatus::keyGroups).toList();
      assertEquals(p, ranges.size(), "tasks " + s.tasks());
      int next = 0;
      for (KeyGroupRange range : ranges) {
        assertEquals(next, range.start(), "key groups " + ranges);
        next = range.end() + 1;
      }
      assertEquals(64, next, "key groups " + ranges);
    }
    assertEquals(sequence.length, reports.size());
    JobStatus end = job.result().get(120, TimeUnit.SECONDS);
    assertEquals(JobState.FINISHED, end.state(), String.valueOf(end));
    assertEquals(0, end.restarts(), "a rescale is not a restart");
    assertEquals(TotalsJob.expectedOutput(EVENTS),
        TotalsJob.committedOutput(cluster.catalog().get("rescaled")));
    for (RescaleReport r : reports) {
      assertTrue(r.totalMillis() >= r.checkpointMillis() + r.stopMillis() + r.deployMillis(),
          String.valueOf(r));
    }
  }

  @Test
  void badRescalesAreRefusedAndChangeNothing() throws Exception {
    JobController job = submit("refused");
    awaitRunning(job);
    int attempt = job.status().get().attempt();
    for (Map<String, Integer> bad : List.of(Map.of(TotalsJob.OPERATOR, 0),
        Map.of(TotalsJob.OPERATOR, 65), Map.of("nope", 2), Map.<String, Integer>of())) {
      ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
          ExecutionException.class, () -> job.rescale(bad).get(10, TimeUnit.SECONDS));
      assertInstanceOf(IllegalArgumentException.class, e.getCause(), String.valueOf(bad));
    }
    CompletableFuture<RescaleReport> first = job.rescale(Map.of(TotalsJob.OPERATOR, 3));
    CompletableFuture<RescaleReport> second = job.rescale(Map.of(TotalsJob.OPERATOR, 4));
    ExecutionException conflict = org.junit.jupiter.api.Assertions.assertThrows(
        ExecutionException.class, () -> second.get(10, TimeUnit.SECONDS));
    assertInstanceOf(RescaleConflictException.class, conflict.getCause());
    assertEquals(3, first.get(60, TimeUnit.SECONDS).to().get(TotalsJob.OPERATOR));
    JobStatus s = job.status().get();
    assertEquals(3, s.parallelism().get(TotalsJob.OPERATOR));
    assertEquals(attempt + 1, s.attempt(), "refused rescales deployed nothing");

    // To the parallelism it runs at: nothing to do, answered at once, nothing redeployed.
    RescaleReport same = job.rescale(Map.of(TotalsJob.OPERATOR, 3)).get(10, TimeUnit.SECONDS);
    assertEquals(-1, same.checkpointId());
    assertEquals(attempt + 1, same.attempt());
    assertEquals(same.from(), same.to());
    JobStatus after = job.status().get();
    assertEquals(attempt + 1, after.attempt(), "a rescale to the same parallelism redeployed");
    assertEquals(s.lastRescale(), after.lastRescale(), "a no-op counted as a rescale");
    assertFalse(job.result().isDone());
    job.cancel().get(30, TimeUnit.SECONDS);
  }

  /**
   * A checkpoint requested while a rescale's halting checkpoint runs must not begin on the
   * halted attempt once that checkpoint completes (its sources emit no more barriers, so it
   * would stay pending and hold back every later checkpoint and rescale), nor may a checkpoint
   * of a canceled attempt outlive it. Only explicit checkpoints here (no periodic ones), so the
   * order is fixed: the request waits for the halting checkpoint and is woken first.
   */
  @Test
  void aCheckpointRequestedDuringARescaleDoesNotBlockTheNextRescale() throws Exception {
    // Input for minutes: the job runs until canceled.
    JobController job = submit("halted", CheckpointConfig.defaults()
        .withInterval(Duration.ZERO).withRetained(2), 100 * EVENTS);
    awaitRunning(job);
    for (int p : new int[] {3, 2}) {
      CompletableFuture<RescaleReport> rescale = job.rescale(Map.of(TotalsJob.OPERATOR, p));
      CompletableFuture<CheckpointMetadata> during = job.triggerCheckpoint();
      assertEquals(p, rescale.get(60, TimeUnit.SECONDS).to().get(TotalsJob.OPERATOR));
      // Refused (the job is being rescaled) or taken: either way it ends.
      try {
        during.get(30, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        assertInstanceOf(IllegalStateException.class, e.getCause(), String.valueOf(e));
      }
      JobStatus s = job.status().get();
      assertEquals(p, s.parallelism().get(TotalsJob.OPERATOR));
      assertEquals(JobState.RUNNING, s.state());
    }
    // The new attempt checkpoints as usual.
    long id = job.triggerCheckpoint().get(30, TimeUnit.SECONDS).checkpointId();
    assertEquals(id, job.latestCheckpoint().get().checkpointId());
    assertFalse(job.result().isDone());
    job.cancel().get(30, TimeUnit.SECONDS);
  }
}
