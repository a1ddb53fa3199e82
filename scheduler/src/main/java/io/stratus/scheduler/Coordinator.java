package io.stratus.scheduler;

import io.stratus.runtime.execution.ChannelRegistry;
import io.stratus.store.lsm.SharedFileRegistry;
import io.stratus.store.objectstore.ObjectStore;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import io.stratus.cache.NamedDaemonThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator process: knows the workers (by their heartbeats), runs a
 * {@link JobController} per submitted job, and owns checkpoint storage and the reference counts
 * of checkpointed files. Talks to workers only through the event bus.
 */
public final class Coordinator implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Coordinator.class);

  private final Vertx vertx;
  private final JobCatalog catalog;
  private final ChannelRegistry channels;
  private final CheckpointStorage storage;
  private final SharedFileRegistry registry;
  private final Duration heartbeatTimeout;
  private final Map<String, Long> lastHeartbeat = new ConcurrentHashMap<>();
  private final Map<String, JobController> jobs = new ConcurrentHashMap<>();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
      new NamedDaemonThreadFactory("stratus-coordinator-timer"));
  private MessageConsumer<Object> heartbeats;
  private ScheduledFuture<?> checkTimer;

  public Coordinator(Vertx vertx, ObjectStore objects, JobCatalog catalog,
      ChannelRegistry channels, Duration heartbeatTimeout) {
    this.vertx = vertx;
    this.catalog = catalog;
    this.channels = channels;
    this.storage = new CheckpointStorage(objects);
    this.registry = new SharedFileRegistry(objects);
    this.heartbeatTimeout = heartbeatTimeout;
  }

  public Coordinator start() {
    heartbeats = vertx.eventBus().consumer(Protocol.HEARTBEATS, message -> {
      if (Protocol.decode(message.body()) instanceof Protocol.Heartbeat h) {
        if (lastHeartbeat.put(h.worker(), System.currentTimeMillis()) == null) {
          LOG.info("Worker {} joined", h.worker());
        }
      }
    });
    long period = Math.max(50, heartbeatTimeout.toMillis() / 4);
    checkTimer = timer.scheduleAtFixedRate(() -> {
      long now = System.currentTimeMillis();
      for (Map.Entry<String, Long> e : lastHeartbeat.entrySet()) {
        if (now - e.getValue() > heartbeatTimeout.toMillis()
            && lastHeartbeat.remove(e.getKey(), e.getValue())) {
          LOG.warn("Worker {} lost: no heartbeat for {} ms", e.getKey(), now - e.getValue());
          for (JobController job : jobs.values()) {
            job.workerLost(e.getKey());
          }
        }
      }
    }, period, period, TimeUnit.MILLISECONDS);
    return this;
  }

  Vertx vertx() {
    return vertx;
  }

  /** Timers of the coordinator's own, independent of how busy the event loops are. */
  ScheduledExecutorService timer() {
    return timer;
  }

  ChannelRegistry channels() {
    return channels;
  }

  public CheckpointStorage storage() {
    return storage;
  }

  public SharedFileRegistry registry() {
    return registry;
  }

  public JobCatalog catalog() {
    return catalog;
  }

  /** Workers that sent a heartbeat recently, sorted by id. */
  public List<String> liveWorkers() {
    List<String> live = new ArrayList<>(lastHeartbeat.keySet());
    live.sort(null);
    return live;
  }

  /** A message to {@code worker} found no one listening: treat it as lost now. */
  void workerUnreachable(String worker) {
    if (lastHeartbeat.remove(worker) != null) {
      LOG.warn("Worker {} lost: it does not answer on the event bus", worker);
      for (JobController job : jobs.values()) {
        job.workerLost(worker);
      }
    }
  }

  boolean isLive(String worker) {
    return lastHeartbeat.containsKey(worker);
  }

  /** Waits until {@code count} workers have sent heartbeats (at start-up). */
  public CompletableFuture<Void> awaitWorkers(int count, Duration timeout) {
    CompletableFuture<Void> ready = new CompletableFuture<>();
    long deadline = System.currentTimeMillis() + timeout.toMillis();
    long[] timer = new long[1];
    timer[0] = vertx.setPeriodic(10, t -> {
      if (lastHeartbeat.size() >= count) {
        vertx.cancelTimer(timer[0]);
        ready.complete(null);
      } else if (System.currentTimeMillis() > deadline) {
        vertx.cancelTimer(timer[0]);
        ready.completeExceptionally(new IllegalStateException("only " + lastHeartbeat.size()
            + " of " + count + " workers joined within " + timeout));
      }
    });
    return ready;
  }

  /**
   * Submits a job registered in the catalog.
   *
   * @param restore     a checkpoint or savepoint to start from, or null
   * @param parallelism parallelism per operator uid, overriding the job's
   */
  public JobController submit(String jobName, CheckpointMetadata restore,
      Map<String, Integer> parallelism) {
    JobDefinition definition = catalog.get(jobName);
    JobController running = jobs.get(jobName);
    if (running != null && !running.result().isDone()) {
      throw new IllegalStateException("job '" + jobName + "' is running already");
    }
    JobController controller = new JobController(this, definition, restore, parallelism);
    jobs.put(jobName, controller);
    controller.start();
    return controller;
  }

  public JobController job(String name) {
    return jobs.get(name);
  }

  public Collection<JobController> jobs() {
    return List.copyOf(jobs.values());
  }

  @Override
  public void close() {
    for (JobController job : jobs.values()) {
      if (!job.result().isDone()) {
        job.cancel().orTimeout(30, java.util.concurrent.TimeUnit.SECONDS).exceptionally(e -> null)
            .join();
      }
    }
    if (heartbeats != null) {
      heartbeats.unregister();
    }
    timer.shutdownNow();
  }
}
