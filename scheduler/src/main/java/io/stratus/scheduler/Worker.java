package io.stratus.scheduler;

import io.stratus.cache.CacheMetrics;
import io.stratus.runtime.execution.ChannelRegistry;
import io.stratus.runtime.execution.DeployedTask;
import io.stratus.runtime.execution.JobTopology;
import io.stratus.runtime.execution.RuntimeResources;
import io.stratus.runtime.execution.TaskBuilder;
import io.stratus.runtime.execution.TaskEvents;
import io.stratus.runtime.execution.TaskPlacement;
import io.stratus.runtime.execution.TaskSnapshot;
import io.stratus.runtime.execution.TaskSpec;
import io.vertx.core.eventbus.MessageConsumer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs tasks for the coordinator. It only talks through the event bus: it builds and starts
 * the tasks a {@link Protocol.Deploy} names, injects checkpoint barriers at its source tasks,
 * cancels an attempt's tasks, forwards what its tasks report to the job's coordinator address,
 * and sends heartbeats. State lives in the object store, so a worker can die at any time.
 */
public final class Worker implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Worker.class);

  private record Attempt(String job, int attempt) {}

  private final String id;
  private final Supplier<String> nodeId;
  private final RuntimeResources resources;
  private final JobCatalog catalog;
  private final ChannelRegistry channels;
  private final Duration heartbeatInterval;
  private final Map<Attempt, List<DeployedTask>> tasks = new ConcurrentHashMap<>();
  /**
   * Attempts canceled here (the last {@link #CANCELED_KEPT} per job); a deploy that completes
   * later releases its tasks at once.
   */
  private final Set<Attempt> canceledAttempts = ConcurrentHashMap.newKeySet();
  /** A deploy is never that many attempts late: older markers are dropped. */
  private static final int CANCELED_KEPT = 16;
  private MessageConsumer<Object> consumer;
  private final ScheduledExecutorService heartbeats =
      Executors.newSingleThreadScheduledExecutor(
          new io.stratus.cache.NamedDaemonThreadFactory("stratus-heartbeat"));
  private volatile boolean alive;
  /** Task state closing in the background after a cancel. */
  private final Set<CompletableFuture<Void>> closing = ConcurrentHashMap.newKeySet();

  /**
   * A worker.
   *
   * @param nodeId its cluster node's id now (the coordinator learns from the cluster at once
   *               when that node leaves; a node that rejoins after a split gets a new one, which
   *               the next heartbeat carries), or null when it shares the coordinator's process
   */
  public Worker(String id, Supplier<String> nodeId, RuntimeResources resources,
      JobCatalog catalog, ChannelRegistry channels, Duration heartbeatInterval) {
    this.id = id;
    this.nodeId = nodeId != null ? nodeId : () -> null;
    this.resources = resources;
    this.catalog = catalog;
    this.channels = channels;
    this.heartbeatInterval = heartbeatInterval;
  }

  public String id() {
    return id;
  }

  /**
   * Asks the leading coordinator, over the cluster's event bus, to let worker {@code id} join;
   * retries until one answers or {@code timeout} passes. Completes with what the coordinator
   * offers its workers (see {@link Coordinator#workerSettings}) plus its {@code epoch}.
   *
   * @throws IllegalStateException (in the future) when no coordinator answered in time, naming
   *         the likely causes
   */
  public static CompletableFuture<Map<String, String>> join(io.vertx.core.Vertx vertx,
      String id, String nodeId, String coordinatorAddress, Duration timeout) {
    CompletableFuture<Map<String, String>> joined = new CompletableFuture<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    String request = Protocol.encode(new Protocol.Join(id, nodeId));
    Runnable[] attempt = new Runnable[1];
    attempt[0] = () -> vertx.eventBus().request(Protocol.JOIN, request,
        new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(2_000)).onComplete(ar -> {
          if (ar.succeeded()) {
            Map<String, String> settings = new java.util.LinkedHashMap<>();
            new io.vertx.core.json.JsonObject(String.valueOf(ar.result().body()))
                .forEach(e -> settings.put(e.getKey(), String.valueOf(e.getValue())));
            joined.complete(settings);
          } else if (System.nanoTime() > deadline) {
            joined.completeExceptionally(new IllegalStateException("no coordinator answered "
                + "at " + coordinatorAddress + " within " + timeout.toSeconds() + " s ("
                + ar.cause().getMessage() + "): is it running and reachable from here, and "
                + "does this worker have the same cluster secret?"));
          } else {
            vertx.setTimer(250, t -> attempt[0].run());
          }
        });
    attempt[0].run();
    return joined;
  }

  public RuntimeResources resources() {
    return resources;
  }

  /** The channels of this worker's tasks (and its data plane, if it has one). */
  public ChannelRegistry channels() {
    return channels;
  }

  /** Starts listening and sending heartbeats. */
  public Worker start() {
    alive = true;
    consumer = resources.vertx().eventBus().consumer(Protocol.workerAddress(id), message -> {
      Protocol.Message m;
      try {
        m = Protocol.decode(message.body());
      } catch (IllegalArgumentException e) {
        message.fail(400, e.getMessage());
        return;
      }
      handle(m).whenComplete((v, e) -> {
        if (e != null) {
          message.fail(500, String.valueOf(e.getCause() != null ? e.getCause() : e));
        } else {
          message.reply("ok");
        }
      });
    });
    // Heartbeats come from their own thread: busy event loops must not look like a dead worker.
    heartbeats.scheduleAtFixedRate(this::heartbeat, 0, heartbeatInterval.toMillis(),
        TimeUnit.MILLISECONDS);
    return this;
  }

  private void heartbeat() {
    if (alive) {
      List<Protocol.TaskReport> reports = new ArrayList<>();
      for (Map.Entry<Attempt, List<DeployedTask>> e : tasks.entrySet()) {
        for (DeployedTask t : e.getValue()) {
          reports.add(new Protocol.TaskReport(e.getKey().job(), e.getKey().attempt(),
              t.spec().taskId(), t.records(), t.stateBytes(), t.sourceLag()));
        }
      }
      CacheMetrics cache = resources.store().cache().metrics();
      resources.vertx().eventBus().send(Protocol.HEARTBEATS, Protocol.encode(
          new Protocol.Heartbeat(id, System.currentTimeMillis(), reports,
              cache.memory().hits() + cache.disk().hits(), cache.misses(),
              channels.dataAddress(), nodeId.get())));
    }
  }

  private CompletableFuture<Void> handle(Protocol.Message m) {
    if (m instanceof Protocol.Deploy d) {
      return deploy(d);
    }
    if (m instanceof Protocol.Start s) {
      for (DeployedTask t : tasksOf(s.job(), s.attempt())) {
        if (!t.isSource()) {
          t.start();
        }
      }
      for (DeployedTask t : tasksOf(s.job(), s.attempt())) {
        if (t.isSource()) {
          t.start();
        }
      }
      return CompletableFuture.completedFuture(null);
    }
    if (m instanceof Protocol.Trigger t) {
      for (DeployedTask task : tasksOf(t.job(), t.attempt())) {
        if (t.tasks().contains(task.spec().taskId())) {
          task.triggerCheckpoint(t.checkpointId(), t.halt());
        }
      }
      return CompletableFuture.completedFuture(null);
    }
    if (m instanceof Protocol.Cancel c) {
      return cancel(c.job(), c.attempt());
    }
    return CompletableFuture.failedFuture(new IllegalArgumentException(
        "worker " + id + " does not handle " + m.getClass().getSimpleName()));
  }

  private List<DeployedTask> tasksOf(String job, int attempt) {
    return tasks.getOrDefault(new Attempt(job, attempt), List.of());
  }

  private CompletableFuture<Void> deploy(Protocol.Deploy d) {
    // Tasks of an older attempt may still run here when a coordinator that took over from a
    // dead one deploys the job anew: they are canceled (the new attempt restores the state of
    // the checkpoint it names, whose files the old tasks never delete).
    for (Attempt a : List.copyOf(tasks.keySet())) {
      if (a.job().equals(d.job()) && a.attempt() < d.attempt()) {
        LOG.info("Worker {} cancels attempt {} of {}: attempt {} replaces it", id, a.attempt(),
            a.job(), d.attempt());
        cancel(a.job(), a.attempt());
      }
    }
    JobDefinition job;
    try {
      job = catalog.get(d.job(), d.parameters());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    TaskPlacement placement = d.dataAddresses() == null || d.dataAddresses().isEmpty()
        ? TaskPlacement.local() : new TaskPlacement(id, d.placement(), d.dataAddresses());
    TaskBuilder builder = new TaskBuilder(new JobTopology(job.graph(), job.runtime(),
        d.parallelism()), job.runtime(), resources, channels, placement);
    TaskEvents events = new Reporter(d.job());
    long deployStarted = System.nanoTime();
    List<CompletableFuture<DeployedTask>> built = new ArrayList<>();
    for (TaskSpec spec : d.tasks()) {
      built.add(builder.build(spec, events));
    }
    return CompletableFuture.allOf(built.toArray(CompletableFuture[]::new)).handle((v, e) -> {
      List<DeployedTask> ready = new ArrayList<>();
      for (CompletableFuture<DeployedTask> b : built) {
        if (!b.isCompletedExceptionally()) {
          ready.add(b.join());
        }
      }
      Attempt attempt = new Attempt(d.job(), d.attempt());
      // A slow restore (rocksdb-local downloads its files) may finish after the coordinator
      // gave up on the attempt and canceled it: its state must not stay open for ever.
      boolean canceled = canceledAttempts.contains(attempt);
      if (e != null || canceled) {
        ready.forEach(DeployedTask::cancel);
        ready.forEach(Worker::closeState);
        throw new IllegalStateException("worker " + id + " could not deploy tasks of " + d.job()
            + " attempt " + d.attempt() + ": " + (canceled ? "the attempt was canceled"
                : e.getCause() != null ? e.getCause() : e), e);
      }
      tasks.computeIfAbsent(attempt, k -> new CopyOnWriteArrayList<>()).addAll(ready);
      LOG.info("Worker {} deployed {} task(s) of {} attempt {} in {} ms", id, ready.size(),
          d.job(), d.attempt(), (System.nanoTime() - deployStarted) / 1_000_000);
      return null;
    });
  }

  private CompletableFuture<Void> cancel(String job, int attempt) {
    canceledAttempts.add(new Attempt(job, attempt));
    canceledAttempts.removeIf(a -> a.job().equals(job) && a.attempt() <= attempt - CANCELED_KEPT);
    List<DeployedTask> running = tasks.remove(new Attempt(job, attempt));
    if (running == null) {
      channels.release(job, attempt);
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<?>[] quiet = running.stream().map(DeployedTask::cancel)
        .toArray(CompletableFuture[]::new);
    // State closes only after the tasks' threads let go of it (a wedged thread must not keep
    // it open for ever, though). The next attempt need not wait for the close (which may wait
    // for an upload of a compaction): it opens its own store instances from the checkpoint,
    // whose files an old instance never deletes.
    CompletableFuture<Void> stopped = CompletableFuture.allOf(quiet)
        .orTimeout(30, TimeUnit.SECONDS).handle((v, e) -> {
          channels.release(job, attempt);
          return null;
        });
    CompletableFuture<Void> closed = stopped.thenRunAsync(
        () -> running.forEach(Worker::closeState), resources.store().readExecutor());
    closing.add(closed);
    closed.whenComplete((v, e) -> closing.remove(closed));
    return stopped;
  }

  /**
   * Asks the coordinator to move this worker's tasks to the others (a drain) before it stops;
   * completes with the jobs moved, or fails naming why (no coordinator answered within
   * {@code timeout}, or it could not move them).
   */
  public CompletableFuture<List<String>> leave(Duration timeout) {
    CompletableFuture<List<String>> left = new CompletableFuture<>();
    resources.vertx().eventBus().request(Protocol.LEAVE, Protocol.encode(new Protocol.Leave(id)),
        new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(timeout.toMillis()))
        .onComplete(ar -> {
          if (ar.succeeded()) {
            String moved = String.valueOf(ar.result().body());
            left.complete(moved.isEmpty() ? List.of() : List.of(moved.split(",")));
          } else {
            left.completeExceptionally(new IllegalStateException("the coordinator did not move "
                + "this worker's tasks: " + ar.cause().getMessage()));
          }
        });
    return left;
  }

  private static void closeState(DeployedTask task) {
    try {
      task.releaseState();
    } catch (RuntimeException e) {
      LOG.warn("Closing the state of task {} failed: {}", task.spec().taskId(), e.toString());
    }
  }

  /**
   * Simulates a crash: stops heartbeats and the tasks, reports nothing. The coordinator finds
   * out through the missing heartbeats.
   */
  public void kill() {
    alive = false;
    if (consumer != null) {
      consumer.unregister();
    }
    heartbeats.shutdownNow();
    for (Attempt a : List.copyOf(tasks.keySet())) {
      cancel(a.job(), a.attempt());
    }
  }

  public boolean alive() {
    return alive;
  }

  /**
   * Stops the tasks and waits (a minute at most) until their state has closed, so that the
   * files a store wrote but no checkpoint references are deleted before the object store goes.
   */
  @Override
  public void close() {
    kill();
    try {
      CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new))
          .get(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      LOG.warn("Worker {} closed before all its task state had closed: {}", id, e.toString());
    }
  }

  /** Forwards task events to the job's coordinator address. */
  private final class Reporter implements TaskEvents {
    private final String job;

    Reporter(String job) {
      this.job = job;
    }

    private void send(Protocol.Message m) {
      if (alive) {
        resources.vertx().eventBus().send(Protocol.jobAddress(job), Protocol.encode(m));
      }
    }

    @Override
    public void snapshotTaken(TaskSpec task, long checkpointId, TaskSnapshot snapshot) {
      send(new Protocol.Ack(job, task.attempt(), task.taskId(), checkpointId, snapshot));
    }

    @Override
    public void snapshotFailed(TaskSpec task, long checkpointId, Throwable error,
        List<String> staged) {
      send(new Protocol.Decline(job, task.attempt(), task.taskId(), checkpointId,
          String.valueOf(error), staged));
    }

    @Override
    public void taskFailed(TaskSpec task, Throwable error) {
      LOG.warn("Task {} of {} attempt {} failed on worker {}: {}", task.taskId(), job,
          task.attempt(), id, error.toString());
      send(new Protocol.TaskFailed(job, task.attempt(), task.taskId(), id,
          String.valueOf(error)));
    }

    @Override
    public void firstRecordProcessed(TaskSpec task) {
      send(new Protocol.FirstRecord(job, task.attempt(), task.taskId()));
    }

    @Override
    public void taskFinished(TaskSpec task, Map<String, Long> sourcePosition,
        List<String> committables) {
      send(new Protocol.TaskFinished(job, task.attempt(), task.taskId(), sourcePosition,
          committables));
    }
  }
}
