package io.stratus.scheduler;

import io.stratus.scheduler.lease.CoordinatorLease;
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
 * of checkpointed files, under the lease it holds on the bucket prefix. Talks to workers only
 * through the event bus.
 */
public final class Coordinator implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Coordinator.class);

  private final Vertx vertx;
  private final CoordinatorLease lease;
  private volatile boolean closing;
  private final JobCatalog catalog;
  private final CheckpointStorage storage;
  private final SharedFileRegistry registry;
  private final Duration heartbeatTimeout;
  private final Map<String, Long> lastHeartbeat = new ConcurrentHashMap<>();
  private final Map<String, JobController> jobs = new ConcurrentHashMap<>();
  /** Each live worker's latest heartbeat: its tasks' counters and its cache's. */
  private final Map<String, Protocol.Heartbeat> reports = new ConcurrentHashMap<>();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
      new NamedDaemonThreadFactory("stratus-coordinator-timer"));
  private final MetricsRegistry metrics = new MetricsRegistry();
  private MessageConsumer<Object> heartbeats;
  private ScheduledFuture<?> checkTimer;

  /**
   * A coordinator over {@code objects}' prefix.
   *
   * @param lease the lease on that prefix, held (its owner releases it); the coordinator fails
   *              every job at once if it is lost, and deletes nothing after
   */
  public Coordinator(Vertx vertx, ObjectStore objects, CoordinatorLease lease,
      JobCatalog catalog, Duration heartbeatTimeout) {
    this.vertx = vertx;
    this.lease = lease;
    this.catalog = catalog;
    this.storage = new CheckpointStorage(objects);
    this.registry = new SharedFileRegistry(objects);
    this.heartbeatTimeout = heartbeatTimeout;
    registerMetrics();
  }

  private void registerMetrics() {
    metrics.register("stratus_workers_live", "Workers sending heartbeats",
        MetricsRegistry.Type.GAUGE, s -> s.sample(Map.of(), lastHeartbeat.size()));
    metrics.register("stratus_worker_cache_hits_total", "Block cache hits (memory and disk)",
        MetricsRegistry.Type.COUNTER, s -> reports.forEach((w, h) ->
            s.sample(Map.of("worker", w), h.cacheHits())));
    metrics.register("stratus_worker_cache_misses_total", "Block cache misses (object store reads)",
        MetricsRegistry.Type.COUNTER, s -> reports.forEach((w, h) ->
            s.sample(Map.of("worker", w), h.cacheMisses())));
    jobMetric("stratus_job_running", "1 if the job runs, else 0", MetricsRegistry.Type.GAUGE,
        j -> j.state() == JobState.RUNNING ? 1 : 0);
    jobMetric("stratus_job_restarts_total", "Restarts after failures",
        MetricsRegistry.Type.COUNTER, JobStatus::restarts);
    jobMetric("stratus_job_records_in_total", "Records the sources emitted (replays included)",
        MetricsRegistry.Type.COUNTER, JobStatus::recordsIn);
    jobMetric("stratus_job_records_per_second", "Source records per second, last seconds",
        MetricsRegistry.Type.GAUGE, JobStatus::recordsPerSecond);
    jobMetric("stratus_job_state_bytes", "Approximate keyed state of the running tasks",
        MetricsRegistry.Type.GAUGE, JobStatus::stateBytes);
    jobMetric("stratus_checkpoints_completed_total", "Completed checkpoints and savepoints",
        MetricsRegistry.Type.COUNTER, JobStatus::completedCheckpoints);
    jobMetric("stratus_checkpoints_aborted_total", "Aborted checkpoints",
        MetricsRegistry.Type.COUNTER, JobStatus::abortedCheckpoints);
    jobMetric("stratus_checkpoint_last_duration_seconds", "Duration of the last checkpoint",
        MetricsRegistry.Type.GAUGE, j -> j.checkpoints().isEmpty() ? Double.NaN
            : j.checkpoints().get(j.checkpoints().size() - 1).durationMillis() / 1000.0);
    jobMetric("stratus_checkpoint_last_uploaded_bytes", "Incremental size of the last checkpoint",
        MetricsRegistry.Type.GAUGE, j -> j.checkpoints().isEmpty() ? Double.NaN
            : j.checkpoints().get(j.checkpoints().size() - 1).uploadedBytes());
    jobMetric("stratus_rescale_last_duration_seconds", "Duration of the last rescale",
        MetricsRegistry.Type.GAUGE, j -> j.lastRescale() == null ? Double.NaN
            : j.lastRescale().totalMillis() / 1000.0);
    metrics.register("stratus_job_parallelism", "Tasks per keyed operator",
        MetricsRegistry.Type.GAUGE, s -> {
          for (JobController job : jobs.values()) {
            job.snapshot().parallelism().forEach((op, p) -> s.sample(
                new java.util.LinkedHashMap<>(Map.of("job", job.name(), "operator", op)), p));
          }
        });
  }

  private void jobMetric(String name, String help, MetricsRegistry.Type type,
      java.util.function.ToDoubleFunction<JobStatus> value) {
    metrics.register(name, help, type, s -> {
      for (JobController job : jobs.values()) {
        s.sample(Map.of("job", job.name()), value.applyAsDouble(job.snapshot()));
      }
    });
  }

  /** The registry every coordinator metric is in; {@code GET /metrics} renders it. */
  public MetricsRegistry metrics() {
    return metrics;
  }

  public Coordinator start() {
    // A coordinator that lost its lease may be running beside its successor: it must stop
    // touching the prefix at once, before the successor starts deleting unreferenced files.
    lease.lost().thenAccept(reason -> {
      // Under the monitor submit holds: a job submitted concurrently either sees the loss or
      // is in the map by now.
      synchronized (this) {
        if (!closing) {
          for (JobController job : jobs.values()) {
            job.stepDown("the coordinator stepped down: " + reason);
          }
        }
      }
    });
    heartbeats = vertx.eventBus().consumer(Protocol.HEARTBEATS, message -> {
      if (Protocol.decode(message.body()) instanceof Protocol.Heartbeat h) {
        if (lastHeartbeat.put(h.worker(), System.currentTimeMillis()) == null) {
          LOG.info("Worker {} joined", h.worker());
        }
        reports.put(h.worker(), h);
      }
    });
    long period = Math.max(50, heartbeatTimeout.toMillis() / 4);
    checkTimer = timer.scheduleAtFixedRate(() -> {
      long now = System.currentTimeMillis();
      for (Map.Entry<String, Long> e : lastHeartbeat.entrySet()) {
        if (now - e.getValue() > heartbeatTimeout.toMillis()
            && lastHeartbeat.remove(e.getKey(), e.getValue())) {
          LOG.warn("Worker {} lost: no heartbeat for {} ms", e.getKey(), now - e.getValue());
          reports.remove(e.getKey());
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
      reports.remove(worker);
      LOG.warn("Worker {} lost: it does not answer on the event bus", worker);
      for (JobController job : jobs.values()) {
        job.workerLost(worker);
      }
    }
  }

  /** The latest reports of {@code job}'s tasks, from every live worker. */
  List<Protocol.TaskReport> taskReports(String job) {
    List<Protocol.TaskReport> out = new ArrayList<>();
    for (Protocol.Heartbeat h : reports.values()) {
      for (Protocol.TaskReport r : h.tasks()) {
        if (r.job().equals(job)) {
          out.add(r);
        }
      }
    }
    return out;
  }

  /**
   * Where the data servers of {@code workers} listen, by worker id; workers that share this
   * process's channels (no data server) are left out.
   */
  Map<String, String> dataAddresses(java.util.Collection<String> workers) {
    Map<String, String> out = new java.util.TreeMap<>();
    for (String w : workers) {
      Protocol.Heartbeat h = reports.get(w);
      if (h != null && h.dataAddress() != null) {
        out.put(w, h.dataAddress());
      }
    }
    return out;
  }

  /** The latest heartbeat of each live worker. */
  Map<String, Protocol.Heartbeat> workerReports() {
    return Map.copyOf(reports);
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
   * @throws UnknownJobException naming the job if the catalog does not know it
   * @throws IllegalArgumentException naming an unknown operator or a parallelism out of range
   * @throws IllegalStateException if the job runs already
   */
  public synchronized JobController submit(String jobName, CheckpointMetadata restore,
      Map<String, Integer> parallelism) {
    if (lease.lost().isDone()) {
      throw new IllegalStateException("this coordinator no longer holds the lease on "
          + lease.location() + ": " + lease.lost().join());
    }
    JobDefinition definition = catalog.get(jobName);
    definition.checkParallelism(parallelism);
    JobController running = jobs.get(jobName);
    if (running != null && !running.result().isDone()) {
      throw new IllegalStateException("job '" + jobName + "' is running already");
    }
    JobController controller = new JobController(this, definition, restore, parallelism,
        running == null ? 1 : Math.max(running.lastAttempt(), running.firstAttempt()) + 1);
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

  /** The lease this coordinator holds on its prefix. */
  public CoordinatorLease lease() {
    return lease;
  }

  @Override
  public void close() {
    closing = true;
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
