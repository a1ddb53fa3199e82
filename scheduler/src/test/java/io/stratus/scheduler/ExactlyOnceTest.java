package io.stratus.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.ObjectStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stateful job over a replayable source, run with at least 10 injected failures (exceptions
 * at random records, and workers killed mid-run), commits exactly the output of a run without
 * failures, computed from the stream: nothing lost, nothing twice.
 */
class ExactlyOnceTest {

  private static final long EVENTS = 500_000;

  @TempDir
  Path dir;

  private EmbeddedCluster cluster;

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
    TotalsJob.failAt = new long[0];
  }

  /**
   * The job; {@code perSecond} paces its source (0: as fast as it goes), so that the faulty run
   * lasts longer than its injections on any machine.
   */
  private JobDefinition job(String name, ObjectStore objects, long perSecond) {
    return TotalsJob.definition(name, objects, "out/" + name, dir.resolve("rocksdb"), 3, EVENTS,
        CheckpointConfig.defaults().withInterval(Duration.ofMillis(100)).withRetained(2),
        RestartStrategy.fixedDelay(100, Duration.ofMillis(20)), perSecond);
  }

  @Test
  void outputWithTenFailuresEqualsOutputWithout() throws Exception {
    ObjectStore objects = new LocalDirectoryObjectStore(dir.resolve("bucket"));
    cluster = new EmbeddedCluster(objects, 3, BlockCacheConfig.memoryOnly(8 << 20),
        Duration.ofMillis(100));

    // What a run without failures commits, straight from the stream (RescaleTest and the S3
    // suite check that runs without failures commit exactly this).
    List<String> expected = TotalsJob.expectedOutput(EVENTS);

    long seed = System.nanoTime();
    Random random = new Random(seed);
    // 500k payments at 20k/s: 25 s of input, with replays more, for 12 injections that each
    // wait for a checkpoint (every 100 ms) and a restart (20 ms delay; a killed worker is
    // noticed only after 2 s of missed heartbeats).
    JobDefinition faulty = job("faulty", objects, 20_000);
    cluster.catalog().register(faulty);
    JobController controller = cluster.coordinator().submit("faulty", null, Map.of());
    // Each failure is armed only after a checkpoint completed since the last one, so that
    // recoveries restore state from checkpoints, not only from the beginning.
    int injected = 0;
    long completedBefore = 0;
    while (injected < 12 && !controller.result().isDone()) {
      JobStatus now = controller.status().get(10, TimeUnit.SECONDS);
      long newest = now.checkpoints().isEmpty() ? 0
          : now.checkpoints().get(now.checkpoints().size() - 1).id();
      if (newest <= completedBefore || now.state() != JobState.RUNNING) {
        Thread.sleep(20);
        continue;
      }
      completedBefore = newest;
      int restartsBefore = now.restarts();
      if (injected % 4 == 3) {
        Worker victim = cluster.workers().stream().filter(Worker::alive)
            .skip(random.nextInt(2)).findFirst().orElseThrow();
        victim.kill();
        cluster.addWorker();
      } else {
        TotalsJob.failAt = new long[] {TotalsJob.PROCESSED.get() + 1 + random.nextInt(3_000)};
      }
      injected++;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (controller.status().get(10, TimeUnit.SECONDS).restarts() == restartsBefore
          && !controller.result().isDone() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
    }
    JobStatus status = controller.result().get(300, TimeUnit.SECONDS);
    assertEquals(JobState.FINISHED, status.state(), "seed " + seed + ": " + status);
    assertTrue(status.restarts() >= 10, "seed " + seed + ": only " + status.restarts()
        + " restarts of " + injected + " injected failures: " + status);
    List<String> actual = TotalsJob.committedOutput(faulty);
    assertEquals(expected.size(), actual.size(), "seed " + seed + ": output size");
    assertEquals(expected, actual, "seed " + seed + ": output differs");
  }
}
