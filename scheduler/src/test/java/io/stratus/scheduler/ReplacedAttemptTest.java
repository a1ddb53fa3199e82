package io.stratus.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.NetworkModel;
import io.stratus.store.objectstore.SimulatedNetworkObjectStore;
import io.vertx.core.eventbus.MessageConsumer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker that comes back after it was declared lost still runs the attempt the job has
 * replaced since: its heartbeat names that attempt, and the coordinator tells it, once, to
 * cancel it, once a heartbeat timeout has passed since the deploy (which cancels older attempts
 * on its workers itself). The worker here is a consumer on the worker's address that records
 * what it is told, and its heartbeats are sent by the test.
 */
class ReplacedAttemptTest {

  @TempDir
  Path dir;

  private SimulatedNetworkObjectStore objects;
  private EmbeddedCluster cluster;

  @BeforeEach
  void start() {
    objects = new SimulatedNetworkObjectStore(new LocalDirectoryObjectStore(dir.resolve("bucket")),
        NetworkModel.none());
    cluster = new EmbeddedCluster(objects, 1, BlockCacheConfig.memoryOnly(8 << 20),
        Duration.ofMillis(100));
  }

  @AfterEach
  void stop() {
    cluster.close();
  }

  @Test
  void aHeartbeatNamingAReplacedAttemptGetsItCanceledOnce() throws Exception {
    cluster.catalog().register(TotalsJob.definition("replaced", objects, "out/replaced",
        dir.resolve("local"), 2, 50_000_000, CheckpointConfig.defaults(),
        RestartStrategy.none(), 20_000));
    JobController job = cluster.coordinator().submit("replaced", null, Map.of());
    job.started().get(60, TimeUnit.SECONDS);
    int current = job.lastAttempt();

    List<Protocol.Message> told = new CopyOnWriteArrayList<>();
    MessageConsumer<Object> paused = cluster.vertx().eventBus().consumer(
        Protocol.workerAddress("paused"), m -> {
          told.add(Protocol.decode(m.body()));
          m.reply("ok");
        });
    try {
      // Heartbeats every 200 ms, as a worker sends them; the coordinator waits a heartbeat
      // timeout after the deploy (which cancels older attempts itself) before it acts.
      Awaitility.await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200))
          .until(() -> {
            heartbeat(current);
            return !told.isEmpty();
          });
      Awaitility.await().during(Duration.ofMillis(600)).atMost(Duration.ofSeconds(5))
          .pollInterval(Duration.ofMillis(200)).until(() -> {
            heartbeat(current);
            return told.size() == 1;
          });
      assertEquals(new Protocol.Cancel("replaced", current - 1), told.get(0));
      assertTrue(job.status().get().state() == JobState.RUNNING, "the job itself runs on");
    } finally {
      paused.unregister();
      job.cancel().get(30, TimeUnit.SECONDS);
    }
  }

  /** A heartbeat naming a task of the replaced attempt, one of the current, one of no job. */
  private void heartbeat(int current) {
    List<Protocol.TaskReport> tasks = List.of(
        new Protocol.TaskReport("replaced", current - 1, "1/0", 10, 0, Map.of()),
        new Protocol.TaskReport("replaced", current, "1/1", 10, 0, Map.of()),
        new Protocol.TaskReport("unknown-job", 1, "1/0", 10, 0, Map.of()));
    cluster.vertx().eventBus().send(Protocol.HEARTBEATS, Protocol.encode(new Protocol.Heartbeat(
        "paused", System.currentTimeMillis(), tasks, 0, 0, null, null)));
  }
}
