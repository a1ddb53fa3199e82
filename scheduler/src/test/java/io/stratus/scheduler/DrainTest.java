package io.stratus.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.api.StreamEnvironment;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.sink.TransactionalFileSink;
import io.stratus.runtime.source.PaymentGenerator;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.ObjectStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A drained worker's tasks move to the others by a redeploy at the same parallelism (a halting
 * checkpoint, then the tasks restored elsewhere), also for a job without keyed operators, which
 * has no parallelism a rescale could name; the output stays exactly once.
 */
class DrainTest {

  private static final long EVENTS_PER_SPLIT = 6_000;

  @TempDir
  Path dir;

  private ObjectStore objects;
  private EmbeddedCluster cluster;

  @BeforeEach
  void start() {
    objects = new LocalDirectoryObjectStore(dir.resolve("bucket"));
    cluster = new EmbeddedCluster(objects, 2, BlockCacheConfig.memoryOnly(8 << 20),
        Duration.ofMillis(100));
  }

  @AfterEach
  void stop() {
    cluster.close();
    objects.close();
  }

  /** Two paced sources (two splits), each payment's id to the exactly-once sink; no keyBy. */
  private JobDefinition stateless(String name) {
    RuntimeConfig runtime = RuntimeConfig.defaults().withParallelism(2);
    StreamEnvironment env = StreamEnvironment.plan(runtime);
    env.fromSource(new PaymentGenerator(7, 100, EVENTS_PER_SPLIT, 1000, 0, 0),
            WatermarkStrategy.noWatermarks(), "payments", 2)
        .filter(p -> {
          // Ids are n * 2 + split: each split pauses every 10 payments, about 1,000 payments
          // a second per split, so the job runs for about 6 s.
          if (p.id() % 20 < 2) {
            LockSupport.parkNanos(10_000_000);
          }
          return true;
        })
        .map(p -> String.valueOf(p.id()))
        .sinkTo(new TransactionalFileSink<>(objects, "out/" + name, line -> line), "ids");
    return new JobDefinition(env.graph(name), runtime,
        CheckpointConfig.defaults().withInterval(Duration.ofMillis(200)),
        RestartStrategy.none());
  }

  @Test
  void aDrainedWorkersTasksOfAJobWithoutKeyedOperatorsMoveAndTheOutputIsExact()
      throws Exception {
    cluster.catalog().register(stateless("stateless"));
    JobController job = cluster.coordinator().submit("stateless", null, Map.of());
    job.started().get(60, TimeUnit.SECONDS);
    String drained = null;
    for (Worker w : cluster.workers()) {
      if (job.placedOn(w.id()).get(10, TimeUnit.SECONDS)) {
        drained = w.id();
      }
    }
    assertTrue(drained != null, "no worker runs a task of the job");

    List<String> moved = cluster.coordinator().drain(drained).get(60, TimeUnit.SECONDS);

    assertEquals(List.of("stateless"), moved);
    assertFalse(job.placedOn(drained).get(10, TimeUnit.SECONDS),
        "a task of the job is still on the drained worker " + drained);
    JobStatus end = job.result().get(2, TimeUnit.MINUTES);
    assertEquals(JobState.FINISHED, end.state(), String.valueOf(end));
    assertEquals(0, end.restarts(), "the drain restarted the job instead of moving it");
    List<String> lines = new TransactionalFileSink<String>(objects, "out/stateless", l -> l)
        .readCommitted();
    assertEquals(2 * EVENTS_PER_SPLIT, lines.size(), "lines committed");
    assertEquals(lines.size(), new HashSet<>(lines).size(), "a payment was written twice");
  }
}
