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
import java.util.Set;
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
  /** How long a new leader waits, after the first worker re-attached, for the others. */
  private static final Duration REATTACH_SETTLE = Duration.ofSeconds(1);

  private final Vertx vertx;
  private final CoordinatorLease lease;
  private volatile boolean closing;
  private final JobCatalog catalog;
  private final CheckpointStorage storage;
  private final SharedFileRegistry registry;
  private final Duration heartbeatTimeout;
  private final Map<String, Long> lastHeartbeat = new ConcurrentHashMap<>();
  private final Map<String, JobController> jobs = new ConcurrentHashMap<>();
  /** Completed when the worker is found lost; see {@link #whenLost}. */
  private final Map<String, CompletableFuture<Void>> lostWaiters = new ConcurrentHashMap<>();
  /** Each live worker's latest heartbeat: its tasks' counters and its cache's. */
  private final Map<String, Protocol.Heartbeat> reports = new ConcurrentHashMap<>();
  /** {@code worker/job/attempt} of replaced attempts a worker was told to cancel. */
  private final Set<String> canceledReplaced = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
      new NamedDaemonThreadFactory("stratus-coordinator-timer"));
  private final MetricsRegistry metrics = new MetricsRegistry();
  private MessageConsumer<Object> heartbeats;
  private MessageConsumer<Object> joins;
  private MessageConsumer<Object> leaves;
  /** Workers being drained: live, but no task is placed on them any more. */
  private final Set<String> draining = ConcurrentHashMap.newKeySet();
  private final JobRecords records;
  /** What a joining worker process is told (where the bucket is); see {@link #workerSettings}. */
  private volatile Map<String, String> workerSettings = Map.of();
  /** State files younger than this are spared by the orphan sweep. */
  private volatile Duration orphanGrace = Duration.ofSeconds(60);
  private final OrphanSweep orphans;
  /** How long a job with no live worker waits for one to join before its attempt fails. */
  private volatile Duration workerGrace = Duration.ofSeconds(30);
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
    // Checkpoint metadata, deletes: written only while the lease is certainly ours.
    ObjectStore fenced = lease.bound(objects);
    this.storage = new CheckpointStorage(fenced);
    this.registry = new SharedFileRegistry(fenced);
    this.heartbeatTimeout = heartbeatTimeout;
    this.records = new JobRecords(objects.forControlPlane(), lease.epoch());
    this.orphans = new OrphanSweep(fenced, storage, lease::confirmHeld);
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
    metrics.register("stratus_source_lag_records", "Records after a source task's position, "
        + "per split (Kafka: consumer lag per partition)", MetricsRegistry.Type.GAUGE,
        s -> sourceLags((labels, lag) -> s.sample(labels, lag.records())));
    metrics.register("stratus_source_lag_seconds", "Age of the last record a source task read "
        + "while newer ones wait, per split", MetricsRegistry.Type.GAUGE,
        s -> sourceLags((labels, lag) -> s.sample(labels, lag.millis() / 1000.0)));
    metrics.register("stratus_job_parallelism", "Tasks per keyed operator and rescalable source",
        MetricsRegistry.Type.GAUGE, s -> {
          for (JobController job : jobs.values()) {
            job.snapshot().parallelism().forEach((op, p) -> s.sample(
                new java.util.LinkedHashMap<>(Map.of("job", job.name(), "operator", op)), p));
          }
        });
  }

  /** Every running attempt's source tasks' lag, labelled by job, task and split. */
  private void sourceLags(
      java.util.function.BiConsumer<Map<String, String>, io.stratus.runtime.source.SplitLag> to) {
    for (JobController job : jobs.values()) {
      for (Protocol.TaskReport r : taskReports(job.name())) {
        if (r.attempt() == job.lastAttempt()) {
          r.lag().forEach((split, lag) -> to.accept(new java.util.LinkedHashMap<>(Map.of(
              "job", job.name(), "task", r.task(), "split", split)), lag));
        }
      }
    }
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
    heartbeats = vertx.eventBus().consumer(Protocol.HEARTBEATS, message -> {
      if (Protocol.decode(message.body()) instanceof Protocol.Heartbeat h) {
        if (lastHeartbeat.put(h.worker(), System.currentTimeMillis()) == null) {
          LOG.info("Worker {} joined", h.worker());
        }
        reports.put(h.worker(), h);
        cancelReplacedAttempts(h);
      }
    });
    joins = vertx.eventBus().consumer(Protocol.JOIN, message -> {
      if (Protocol.decode(message.body()) instanceof Protocol.Join j) {
        LOG.info("Worker {} (cluster node {}) asks to join", j.worker(), j.nodeId());
        message.reply(new io.vertx.core.json.JsonObject(new java.util.LinkedHashMap<>(
            workerSettings)).put("epoch", lease.epoch()).encode());
      }
    });
    leaves = vertx.eventBus().consumer(Protocol.LEAVE, message -> {
      if (Protocol.decode(message.body()) instanceof Protocol.Leave l) {
        drain(l.worker()).whenComplete((moved, e) -> {
          if (e != null) {
            message.fail(500, String.valueOf(e.getCause() != null ? e.getCause().getMessage()
                : e.getMessage()));
          } else {
            message.reply(String.join(",", moved));
          }
        });
      }
    });
    // Registered after the consumers, which it unregisters.
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
      // The new leader listens on the same addresses: messages must not be shared with it.
      unregisterConsumers();
    });
    long period = Math.max(50, heartbeatTimeout.toMillis() / 4);
    checkTimer = timer.scheduleAtFixedRate(() -> {
      long now = System.currentTimeMillis();
      for (Map.Entry<String, Long> e : lastHeartbeat.entrySet()) {
        if (now - e.getValue() > heartbeatTimeout.toMillis()
            && lastHeartbeat.remove(e.getKey(), e.getValue())) {
          LOG.warn("Worker {} lost: no heartbeat for {} ms", e.getKey(), now - e.getValue());
          lost(e.getKey());
        }
      }
    }, period, period, TimeUnit.MILLISECONDS);
    return this;
  }

  /**
   * A worker that was declared lost (a long pause, a partition) and comes back may still run
   * tasks of attempts its jobs have replaced since: they are canceled once, or they would hold
   * memory, threads and state stores for nothing. Their output was never committed.
   */
  private void cancelReplacedAttempts(Protocol.Heartbeat h) {
    for (Protocol.TaskReport r : h.tasks()) {
      JobController job = jobs.get(r.job());
      // A deploy cancels the older attempts on its workers itself: until then (a heartbeat
      // timeout after the deploy at most) a report of one is no sign of a worker come back.
      if (job != null && r.attempt() < job.lastAttempt()
          && System.currentTimeMillis() - job.attemptStartedAt() > heartbeatTimeout.toMillis()
          && canceledReplaced.add(h.worker() + "/" + r.job() + "/" + r.attempt())) {
        LOG.warn("Worker {} still runs attempt {} of job {}, which attempt {} replaced: "
            + "canceling it", h.worker(), r.attempt(), r.job(), job.lastAttempt());
        vertx.eventBus().request(Protocol.workerAddress(h.worker()),
            Protocol.encode(new Protocol.Cancel(r.job(), r.attempt())))
            .onFailure(e -> LOG.warn("Canceling attempt {} of job {} on worker {} failed: {}",
                r.attempt(), r.job(), h.worker(), e.toString()));
      }
    }
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

  /**
   * What worker processes that join are told, as string pairs (where the bucket is: see the
   * {@code stratus worker} command); the reply also carries this coordinator's epoch.
   */
  public void workerSettings(Map<String, String> settings) {
    this.workerSettings = Map.copyOf(settings);
  }

  /**
   * How long a job that lost every worker waits for one to join (a replacement) before the
   * attempt counts as failed against its restart strategy; 30 s unless set.
   */
  public void workerGrace(Duration grace) {
    this.workerGrace = grace;
  }

  Duration workerGrace() {
    return workerGrace;
  }

  /**
   * State files written less than {@code grace} ago are never swept as orphans (uploads still
   * in flight when a process died, clocks that disagree); 60 s unless set.
   */
  public void orphanGrace(Duration grace) {
    this.orphanGrace = grace;
  }

  Duration orphanGrace() {
    return orphanGrace;
  }

  /**
   * A job ended: once none runs under the prefix, the state files that killed processes left
   * and no checkpoint or savepoint references are deleted ({@link OrphanSweep}).
   */
  void jobEnded() {
    if (closing || lease.lost().isDone()
        || jobs.values().stream().anyMatch(j -> !j.result().isDone())) {
      return;
    }
    orphans.sweep(java.time.Instant.now().minus(orphanGrace)).whenComplete((deleted, e) -> {
      if (e != null) {
        LOG.warn("Sweeping orphaned state files failed: {}", e.toString());
      } else if (!deleted.isEmpty()) {
        LOG.info("Deleted {} orphaned state files ({} bytes) that no checkpoint or savepoint "
            + "references", deleted.size(),
            deleted.stream().mapToLong(io.stratus.store.objectstore.ObjectInfo::size).sum());
      }
    });
  }

  /**
   * The cluster node {@code nodeId} left the cluster (its process died or was cut off): the
   * worker that ran there is lost now, without waiting for its heartbeats to stop.
   */
  public void nodeLeft(String nodeId) {
    for (Protocol.Heartbeat h : reports.values()) {
      if (nodeId.equals(h.nodeId())) {
        if (lastHeartbeat.remove(h.worker()) != null) {
          LOG.warn("Worker {} lost: it left the cluster (node {})", h.worker(), nodeId);
          lost(h.worker());
        }
      }
    }
  }

  /** The live workers, sorted by id. */
  public List<WorkerStatus> workers() {
    List<WorkerStatus> out = new ArrayList<>();
    for (String id : liveWorkers()) {
      Protocol.Heartbeat h = reports.get(id);
      if (h != null) {
        out.add(new WorkerStatus(id, h.dataAddress(), h.sentAt(), h.tasks().size(),
            h.cacheHits(), h.cacheMisses(), draining.contains(id)));
      }
    }
    return out;
  }

  /** Live workers that tasks may be placed on (not being drained), sorted by id. */
  List<String> placeableWorkers() {
    List<String> out = new ArrayList<>(liveWorkers());
    out.removeAll(draining);
    return out;
  }

  /** Whether {@code worker} is being drained. */
  public boolean draining(String worker) {
    return draining.contains(worker);
  }

  /**
   * Drains a worker: no task is placed on it any more, and every job with tasks on it is
   * rescaled at its current parallelism, which moves its key groups to the other workers by
   * pointers, as a rescale does (not a failure: nothing restarts from an older checkpoint).
   * A job that is restarting or being rescaled already lands elsewhere by itself.
   *
   * @return (in the future) the jobs whose tasks moved
   * @throws IllegalArgumentException (in the future) naming the worker when it is not live
   * @throws IllegalStateException (in the future) when it is the only live worker while jobs
   *         run on it
   */
  public CompletableFuture<List<String>> drain(String worker) {
    if (!isLive(worker)) {
      return CompletableFuture.failedFuture(new IllegalArgumentException("no live worker named '"
          + worker + "'; live workers: " + liveWorkers()));
    }
    draining.add(worker);
    LOG.info("Draining worker {}", worker);
    List<CompletableFuture<String>> moves = new ArrayList<>();
    for (JobController job : jobs.values()) {
      moves.add(job.placedOn(worker).thenCompose(on -> {
        if (!on) {
          return CompletableFuture.completedFuture(null);
        }
        if (placeableWorkers().isEmpty()) {
          draining.remove(worker);
          throw new IllegalStateException("worker " + worker + " is the only one left: job '"
              + job.name() + "' has nowhere to go (start another worker first)");
        }
        return job.redeploy().handle((report, e) -> {
          if (e != null && !(e instanceof RescaleConflictException
              || e.getCause() instanceof RescaleConflictException)) {
            throw new java.util.concurrent.CompletionException(e);
          }
          return job.name();
        });
      }));
    }
    return CompletableFuture.allOf(moves.toArray(CompletableFuture[]::new)).handle((v, e) -> {
      if (e != null) {
        // Not drained: the worker may take tasks again.
        draining.remove(worker);
        throw e instanceof java.util.concurrent.CompletionException c ? c
            : new java.util.concurrent.CompletionException(e);
      }
      List<String> moved = moves.stream().map(CompletableFuture::join)
          .filter(java.util.Objects::nonNull).toList();
      LOG.info("Worker {} drained; jobs moved off it: {}", worker, moved);
      return moved;
    });
  }

  /** A message to {@code worker} found no one listening: treat it as lost now. */
  void workerUnreachable(String worker) {
    if (lastHeartbeat.remove(worker) != null) {
      LOG.warn("Worker {} lost: it does not answer on the event bus", worker);
      lost(worker);
    }
  }

  private void lost(String worker) {
    reports.remove(worker);
    draining.remove(worker);
    CompletableFuture<Void> waiter = lostWaiters.remove(worker);
    if (waiter != null) {
      waiter.complete(null);
    }
    for (JobController job : jobs.values()) {
      job.workerLost(worker);
    }
  }

  /**
   * Completes when {@code worker} is found lost (at once if it is not live): a request to a
   * dead worker is then answered without waiting for its timeout.
   */
  CompletableFuture<Void> whenLost(String worker) {
    CompletableFuture<Void> waiter = lostWaiters.computeIfAbsent(worker,
        w -> new CompletableFuture<>());
    if (!lastHeartbeat.containsKey(worker)) {
      lostWaiters.remove(worker, waiter);
      waiter.complete(null);
    }
    return waiter;
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
    return awaitWorkers(count, timeout, false);
  }

  /**
   * Waits until {@code count} live workers that are not being drained exist (a job with
   * nowhere to run waits for one to join).
   */
  CompletableFuture<Void> awaitPlaceableWorker(Duration timeout) {
    return awaitWorkers(1, timeout, true);
  }

  private CompletableFuture<Void> awaitWorkers(int count, Duration timeout,
      boolean placeableOnly) {
    CompletableFuture<Void> ready = new CompletableFuture<>();
    long deadline = System.currentTimeMillis() + timeout.toMillis();
    long[] timer = new long[1];
    timer[0] = vertx.setPeriodic(10, t -> {
      if ((placeableOnly ? placeableWorkers().size() : lastHeartbeat.size()) >= count) {
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
  public JobController submit(String jobName, CheckpointMetadata restore,
      Map<String, Integer> parallelism) {
    return submit(jobName, Map.of(), restore, null, parallelism);
  }

  /**
   * Submits a job of the catalog, built with {@code parameters}.
   *
   * @param restore     a checkpoint or savepoint to start from, or null
   * @param restoreName how the user named {@code restore} (kept in the job's record), or null
   * @param parallelism parallelism per operator uid, overriding the job's
   * @throws UnknownJobException naming the job if the catalog does not know it
   * @throws IllegalArgumentException naming a parameter the job rejects, an unknown operator
   *         or a parallelism out of range
   * @throws IllegalStateException if the job runs already
   */
  public synchronized JobController submit(String jobName, Map<String, String> parameters,
      CheckpointMetadata restore, String restoreName, Map<String, Integer> parallelism) {
    if (lease.lost().isDone()) {
      throw new IllegalStateException("this coordinator no longer holds the lease on "
          + lease.location() + ": " + lease.lost().join());
    }
    JobDefinition definition = catalog.get(jobName, parameters);
    definition.checkParallelism(parallelism);
    JobController running = jobs.get(jobName);
    if (running != null && !running.result().isDone()) {
      throw new IllegalStateException("job '" + jobName + "' is running already");
    }
    JobController controller = new JobController(this, definition, parameters, restore,
        restoreName, parallelism,
        running == null ? 1 : Math.max(running.lastAttempt(), running.firstAttempt()) + 1);
    jobs.put(jobName, controller);
    controller.start();
    return controller;
  }

  /**
   * Resumes every job that the bucket's records say was running when the previous coordinator
   * stopped (or died): each from its newest checkpoint or savepoint (else from what it was
   * submitted with), at the parallelism and with the parameters it ran with, numbering its
   * attempts after the last one deployed. Jobs this binary does not know, or whose restore
   * point is gone, are logged and left alone (their records and files stay).
   *
   * @return the names of the jobs resumed
   */
  public CompletableFuture<List<String>> recoverJobs() {
    return records.all().thenCompose(all -> {
      List<JobRecords.JobRecord> running = all.stream().filter(JobRecords.JobRecord::running)
          .toList();
      if (running.isEmpty()) {
        return CompletableFuture.completedFuture(List.of());
      }
      // The previous leader's workers re-attach within a heartbeat or two (a cluster that a
      // restart split merges again within seconds): deploy once they are back, not on the
      // first one alone.
      CompletableFuture<Void> settled = new CompletableFuture<>();
      awaitWorkers(1, workerGrace).whenComplete((v, e) -> timer.schedule(
          () -> settled.complete(null), REATTACH_SETTLE.toMillis(), TimeUnit.MILLISECONDS));
      return settled.thenCompose(v -> resume(running));
    });
  }

  private CompletableFuture<List<String>> resume(List<JobRecords.JobRecord> running) {
    List<CompletableFuture<String>> resumed = new ArrayList<>();
    for (JobRecords.JobRecord r : running) {
      resumed.add(storage.restorePoints(r.job()).thenCompose(points -> {
        if (!points.isEmpty()) {
          return CompletableFuture.completedFuture(points.get(points.size() - 1).metadata());
        }
        return r.restoreFrom() == null ? CompletableFuture.completedFuture(null)
            : storage.resolve(r.job(), r.restoreFrom()).thenApply(p -> p.metadata());
      }).thenApply(restore -> {
        JobController job = submit(r.job(), r.parameters(), restore, r.restoreFrom(),
            r.parallelism());
        job.recovering("resumed by the coordinator of epoch " + lease.epoch()
            + " (the previous one stopped or died)");
        LOG.info("Recovering job {} (last attempt {}) from {}", r.job(), r.attempt(),
            restore == null ? "its start" : restore.kind() + " " + restore.checkpointId());
        return job.name();
      }).exceptionally(e -> {
        LOG.error("Cannot recover job {}: {}", r.job(), e.getCause() != null
            ? e.getCause().getMessage() : e.getMessage());
        return null;
      }));
    }
    return CompletableFuture.allOf(resumed.toArray(CompletableFuture[]::new)).thenApply(v ->
        resumed.stream().map(CompletableFuture::join).filter(java.util.Objects::nonNull)
            .toList());
  }

  /** The records of the jobs run under this prefix (shared by the job controllers). */
  JobRecords records() {
    return records;
  }

  /** Whether this coordinator is closing: its jobs stop, but their records stay running. */
  boolean closing() {
    return closing;
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

  private void unregisterConsumers() {
    for (MessageConsumer<Object> c : java.util.Arrays.asList(heartbeats, joins, leaves)) {
      if (c != null) {
        c.unregister();
      }
    }
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
    unregisterConsumers();
    timer.shutdownNow();
  }
}
