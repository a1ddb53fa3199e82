package io.stratus.scheduler;

import io.stratus.runtime.execution.JobTopology;
import io.stratus.runtime.execution.TaskSpec;
import io.stratus.runtime.graph.Transformation;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one job for the coordinator, as a sequence of attempts: each attempt is planned
 * ({@link AttemptPlan}: tasks, where they start from, which worker runs them), deployed and
 * started; a task failure or a lost worker cancels it and deploys the next one from the last
 * completed checkpoint, as the restart strategy allows; a rescale replaces it after a halting
 * checkpoint. The checkpoints themselves are its {@link CheckpointCoordinator}'s.
 *
 * <p>One failure, from detection to the first record: {@link #onMessage} ({@code TaskFailed})
 * or {@link #workerLost} → {@link #failover} (a {@link Recovery} starts, the attempt is
 * canceled) → after the restart delay {@link #deploy} (the next attempt is recorded in the
 * bucket) → {@link #deployTasks} (planned from {@link CheckpointCoordinator#latest}, deployed,
 * started) → {@code FirstRecord} ends the recovery in {@link JobStatus#lastRecovery}.
 *
 * <p>Confined to its own Vert.x context; public methods hop there.
 */
public final class JobController {

  private static final Logger LOG = LoggerFactory.getLogger(JobController.class);
  private static final Duration DEPLOY_TIMEOUT = Duration.ofMinutes(30);

  private final Coordinator coordinator;
  private final JobDefinition definition;
  /** What the job was built from: workers build it the same way. */
  private final Map<String, String> parameters;
  /** How the user named the restore point the job was submitted with, or null. */
  private final String restoreName;
  /** The job's record in the bucket as last written (null before the first deploy). */
  private JobRecords.JobRecord record;
  /** The coordinator lost its lease: the job's record is no longer this one's to write. */
  private boolean deposed;
  /** The record writes in flight, chained so that each starts from the one before. */
  private CompletableFuture<Void> recordWrites = CompletableFuture.completedFuture(null);
  private final Vertx vertx;
  private final Context context;
  private final CompletableFuture<JobStatus> result = new CompletableFuture<>();
  private final CompletableFuture<Void> started = new CompletableFuture<>();
  private final Map<String, Integer> parallelism = new LinkedHashMap<>();
  private final CheckpointCoordinator checkpoints;
  private final JobThroughput throughput = new JobThroughput();
  private JobState state = JobState.SUBMITTED;
  private final int firstAttempt;
  /** Volatile: the coordinator reads it off the job's context (numbering, stale attempts). */
  private volatile int attempt;
  private AttemptPlan plan = AttemptPlan.NONE;
  /** Tasks of the attempt that processed all their input. */
  private final Set<String> finished = new HashSet<>();
  private int restarts;
  private String lastFailure;
  private MessageConsumer<Object> consumer;
  private volatile long attemptStartedAt;
  private boolean restartScheduled;
  /** Waiters for an attempt to run, and for its first processed record, by attempt. */
  private final Map<Integer, CompletableFuture<Long>> running = new HashMap<>();
  private final Map<Integer, CompletableFuture<Long>> firstRecord = new HashMap<>();
  private ScheduledFuture<?> sampler;
  private volatile JobStatus snapshot;
  private boolean rescaling;
  private int rescalingFrom = -1;
  private RescaleReport lastRescale;
  /** The failure being recovered from, or null. */
  private Recovery recovery;
  private RecoveryReport lastRecovery;

  /**
   * A controller whose first attempt is {@code firstAttempt}: attempts of one job number on
   * across submissions, since workers remember canceled attempts by number.
   */
  JobController(Coordinator coordinator, JobDefinition definition,
      Map<String, String> parameters, CheckpointMetadata restore, String restoreName,
      Map<String, Integer> initialParallelism, int firstAttempt) {
    this.coordinator = coordinator;
    this.parameters = Map.copyOf(parameters);
    this.restoreName = restoreName;
    this.firstAttempt = firstAttempt;
    this.definition = definition;
    this.vertx = coordinator.vertx();
    this.context = vertx.getOrCreateContext();
    this.checkpoints = new CheckpointCoordinator(new CheckpointCoordinator.Job() {
      @Override
      public String name() {
        return JobController.this.name();
      }

      @Override
      public int attempt() {
        return attempt;
      }

      @Override
      public AttemptPlan plan() {
        return plan;
      }

      @Override
      public Set<String> finishedTasks() {
        return finished;
      }

      @Override
      public JobState state() {
        return state;
      }

      @Override
      public boolean rescaling() {
        return rescaling;
      }

      @Override
      public CompletableFuture<Object> request(String worker, Protocol.Message message) {
        return JobController.this.request(worker, message);
      }

      @Override
      public void commitFailed(int failedAttempt, String message) {
        if (failedAttempt == attempt) {
          failover(message);
        }
      }

      @Override
      public void stuck(int stuckAttempt, String message) {
        if (stuckAttempt == attempt) {
          failover(message);
        }
      }
    }, definition, coordinator, context, restore);
    this.parallelism.putAll(initialParallelism);
  }

  public String name() {
    return definition.name();
  }

  public JobDefinition definition() {
    return definition;
  }

  /**
   * Completes when the job's first attempt runs; fails, naming the reason, if the job ends
   * before (its bucket cannot be reached, its restore point does not fit the job).
   */
  public CompletableFuture<Void> started() {
    return started;
  }

  /** Completes with the final status when the job finishes, fails or is canceled. */
  public CompletableFuture<JobStatus> result() {
    return result;
  }

  /**
   * Starts the job once its checkpoint storage answers: a bucket that cannot be reached fails
   * the job before any task runs, so nothing is half-written and the error names the endpoint.
   */
  void start() {
    context.runOnContext(v -> coordinator.storage().allRestorePoints()
        .whenComplete((points, e) -> context.runOnContext(x -> {
          if (state.terminal()) {
            return;
          }
          if (e != null) {
            fail("checkpoint storage " + coordinator.storage().location()
                + " cannot be used: " + Failures.message(e));
          } else {
            checkpoints.adoptExisting(points);
            recordSubmission();
          }
        })));
  }

  /**
   * Writes the job's record (a coordinator that takes over reads it), numbering the first
   * attempt after every attempt an earlier run of the job deployed, then deploys it.
   */
  private void recordSubmission() {
    long epoch = coordinator.lease().epoch();
    coordinator.records().take(name(), previous -> JobRecords.submitted(name(), parameters,
            parallelism, restoreName,
            Math.max(firstAttempt, previous == null ? 1 : previous.attempt() + 1), epoch))
        .whenComplete((r, e) -> context.runOnContext(x -> {
          if (state.terminal()) {
            return;
          }
          if (e != null) {
            fail("cannot write the job's record " + JobRecords.key(name()) + ": "
                + Failures.message(e));
            return;
          }
          record = r;
          startAttempts(r.attempt());
        }));
  }

  private void startAttempts(int first) {
    consumer = vertx.eventBus().consumer(Protocol.jobAddress(name()), message -> {
      try {
        onMessage(Protocol.decode(message.body()));
      } catch (RuntimeException e) {
        LOG.warn("Job {} ignored a message it could not read: {}", name(), e.toString());
      }
    });
    deploy(first);
    sampler = coordinator.timer().scheduleAtFixedRate(
        () -> context.runOnContext(x -> sampleThroughput()), 1, 1, TimeUnit.SECONDS);
  }

  // ------------------------------------------------------------------------------- attempts

  private void deploy(int nextAttempt) {
    checkpoints.attemptStarting(nextAttempt);
    throughput.attemptStarting(plan, reportsOfAttempt().values());
    restartScheduled = false;
    attempt = nextAttempt;
    attemptStartedAt = System.currentTimeMillis();
    finished.clear();
    int deploying = attempt;
    recordAttempt().whenComplete((v, e) -> context.runOnContext(x -> {
      if (deploying != attempt || state.terminal()) {
        return;
      }
      if (e != null && Failures.cause(e) instanceof JobRecords.FencedException f) {
        deposed = true;
        fail("another coordinator runs this job now: " + f.getMessage());
      } else if (e != null) {
        failover("cannot record attempt " + deploying + " in " + JobRecords.key(name()) + ": "
            + Failures.message(e));
      } else {
        commitRestoredAndDeploy();
      }
    }));
  }

  /**
   * Records the attempt about to be deployed (and the parallelism) in the job's record, so that
   * a coordinator that takes over numbers its attempts after it; fails with
   * {@link JobRecords.FencedException} once such a coordinator has taken the record.
   */
  private CompletableFuture<Void> recordAttempt() {
    if (record.attempt() == attempt) {
      // Claimed ahead by a failover (or the job's first write): that write, done or not.
      return recordWrites;
    }
    return writeRecord(record.with(attempt, parallelism, true, coordinator.lease().epoch()));
  }

  /**
   * Writes the job's record after the writes before it (an attempt's and the end's must not
   * race from one version: the later would undo the earlier). On the job's context.
   */
  private CompletableFuture<Void> writeRecord(JobRecords.JobRecord next) {
    record = next;
    CompletableFuture<Void> written = recordWrites.handle((v, e) -> null)
        .thenCompose(v -> coordinator.records().update(next));
    recordWrites = written;
    return written;
  }

  private void commitRestoredAndDeploy() {
    CheckpointMetadata restoreFrom = checkpoints.latest();
    if (restoreFrom == null) {
      deployTasks();
      return;
    }
    // The restore point's output may not be committed yet (its commit failed, or the previous
    // coordinator stopped first).
    int deploying = attempt;
    checkpoints.commitOutputOf(restoreFrom).whenComplete((v, e) -> context.runOnContext(
        x -> {
          if (deploying != attempt || state.terminal()) {
            return;
          }
          if (e != null) {
            failover("committing the output of " + restoreFrom.kind() + " "
                + restoreFrom.checkpointId() + " failed: " + Failures.message(e));
          } else {
            deployTasks();
          }
        }));
  }

  private void deployTasks() {
    List<String> workers = coordinator.placeableWorkers();
    if (workers.isEmpty()) {
      // No worker to restart on: wait a while for one to join (a replacement) before this
      // counts as a failed attempt.
      int waiting = attempt;
      Duration grace = coordinator.workerGrace();
      LOG.warn("Job {} attempt {} waits up to {} s for a worker to join", name(), attempt,
          grace.toSeconds());
      coordinator.awaitPlaceableWorker(grace).whenComplete((v, e) -> context.runOnContext(x -> {
        if (waiting != attempt || state.terminal()) {
          return;
        }
        if (e != null) {
          failover("no live worker to deploy to: " + Failures.message(e));
        } else {
          deployTasks();
        }
      }));
      return;
    }
    CheckpointMetadata restoreFrom = checkpoints.latest();
    try {
      plan = AttemptPlan.of(definition, parallelism, attempt, restoreFrom,
          checkpoints.handedOver(), workers, plan);
    } catch (RuntimeException e) {
      fail("cannot deploy: " + e.getMessage());
      return;
    }
    JobTopology topology = plan.topology();
    for (JobTopology.Vertex v : topology.vertices()) {
      if (topology.keyedHead(v.index()) != null) {
        parallelism.put(topology.keyedHead(v.index()).uid(), v.parallelism());
      }
      Transformation.SourceNode source = topology.sourceHead(v.index());
      if (source != null && source.source().rescalable()) {
        parallelism.put(source.name(), v.parallelism());
      }
    }
    Map<String, List<TaskSpec>> perWorker = plan.tasksByWorker();
    int deploying = attempt;
    Map<String, String> addresses = coordinator.dataAddresses(perWorker.keySet());
    if (recovery != null) {
      recovery.deploying();
    }
    List<CompletableFuture<Object>> deployed = new ArrayList<>();
    for (Map.Entry<String, List<TaskSpec>> e : perWorker.entrySet()) {
      String worker = e.getKey();
      // A worker that dies after it got its deploy never answers: fail the deploy once it is
      // known lost, not after the deploy timeout.
      CompletableFuture<Object> lostFirst = coordinator.whenLost(worker).thenCompose(v ->
          CompletableFuture.failedFuture(new IllegalStateException("worker " + worker
              + " was lost while the attempt was deployed")));
      deployed.add(request(worker, new Protocol.Deploy(name(), parameters, attempt,
          Map.copyOf(parallelism), e.getValue(), plan.placement(), addresses))
          .applyToEither(lostFirst, reply -> reply));
    }
    CompletableFuture.allOf(deployed.toArray(CompletableFuture[]::new))
        .whenComplete((v, error) -> context.runOnContext(x -> {
          if (deploying != attempt || state.terminal()) {
            return;
          }
          if (error != null) {
            failover("deploying attempt " + deploying + " failed: " + Failures.message(error));
            return;
          }
          for (String worker : perWorker.keySet()) {
            request(worker, new Protocol.Start(name(), attempt));
          }
          state = JobState.RUNNING;
          if (recovery != null) {
            recovery.running();
          }
          started.complete(null);
          completeWaiter(running, attempt);
          LOG.info("Job {} attempt {} running: {} tasks on {} worker(s){}", name(), attempt,
              plan.specs().size(), perWorker.size(), restoreFrom == null ? ""
                  : ", restored from " + restoreFrom.kind() + " " + restoreFrom.checkpointId());
          checkpoints.schedulePeriodic();
        }));
  }

  private CompletableFuture<Object> request(String worker, Protocol.Message m) {
    CompletableFuture<Object> reply = new CompletableFuture<>();
    // A deploy restores state: by pointers it takes milliseconds, but rocksdb-local downloads
    // and rebuilds, which takes minutes for large state.
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(m instanceof Protocol.Deploy
        ? DEPLOY_TIMEOUT.toMillis() : DeliveryOptions.DEFAULT_TIMEOUT);
    vertx.eventBus().request(Protocol.workerAddress(worker), Protocol.encode(m), options)
        .onComplete(ar -> {
          if (ar.succeeded()) {
            reply.complete(ar.result().body());
          } else {
            if (ar.cause() instanceof io.vertx.core.eventbus.ReplyException r
                && r.failureType() == io.vertx.core.eventbus.ReplyFailure.NO_HANDLERS) {
              coordinator.workerUnreachable(worker);
            }
            reply.completeExceptionally(ar.cause());
          }
        });
    return reply;
  }

  private void onMessage(Protocol.Message m) {
    if (m instanceof Protocol.Ack a && a.attempt() == attempt) {
      checkpoints.acked(a);
    } else if (m instanceof Protocol.Decline d && d.attempt() == attempt) {
      checkpoints.declined(d);
    } else if (m instanceof Protocol.TaskFailed f && f.attempt() == attempt) {
      failover("task " + f.task() + " failed on worker " + f.worker() + ": " + f.error());
    } else if (m instanceof Protocol.FirstRecord f && f.attempt() == attempt) {
      completeWaiter(firstRecord, attempt);
      // Not a late record of the attempt that failed (it is still the current one until the
      // next is deployed).
      if (recovery != null && state == JobState.RUNNING) {
        CheckpointMetadata restoredFrom = checkpoints.latest();
        lastRecovery = recovery.recovered(attempt,
            restoredFrom == null ? -1 : restoredFrom.checkpointId());
        recovery = null;
        LOG.info("Job {} recovered in {} ms (attempt {} processed records again): {}", name(),
            lastRecovery.totalMillis(), attempt, lastRecovery.cause());
      }
    } else if (m instanceof Protocol.TaskFinished f && f.attempt() == attempt) {
      finished.add(f.task());
      checkpoints.taskFinished(f);
      if (finished.size() == plan.placement().size()) {
        finish();
      }
    }
  }

  /** The coordinator lost its lease: the job fails at once and writes nothing more. */
  void stepDown(String reason) {
    context.runOnContext(v -> {
      deposed = true;
      if (!state.terminal()) {
        fail(reason);
      }
    });
  }

  /** A worker stopped sending heartbeats. */
  void workerLost(String worker) {
    context.runOnContext(v -> {
      if (plan.placedOn(worker) && (state == JobState.RUNNING
          || state == JobState.SUBMITTED || state == JobState.RESCALING)) {
        failover("worker " + worker + " was lost");
      }
    });
  }

  private void failover(String reason) {
    if (state.terminal() || state == JobState.CANCELLING || restartScheduled
        || (state == JobState.RESCALING && attempt == rescalingFrom)) {
      // A rescale is replacing this attempt anyway.
      return;
    }
    restartScheduled = true;
    lastFailure = reason;
    if (recovery == null) {
      recovery = Recovery.detected(reason);
    }
    LOG.warn("Job {} attempt {} failed: {}", name(), attempt, reason);
    state = JobState.RESTARTING;
    checkpoints.stopPeriodic();
    checkpoints.abort("the job is restarting", -1);
    int failed = attempt;
    // The next attempt's number is claimed in the job's record while the failed one stops, not
    // after: the deploy waits for that write (a coordinator that took over fails it).
    if (restarts < definition.restarts().maxRestarts()) {
      writeRecord(record.with(failed + 1, parallelism, true, coordinator.lease().epoch()));
    }
    cancelAttempt(failed).thenCombine(checkpoints.whenFinalized(), (a, b) -> null)
        .whenComplete((v, e) -> context.runOnContext(x -> {
          if (recovery != null) {
            recovery.canceled();
          }
          restarts++;
          if (restarts > definition.restarts().maxRestarts()) {
            fail("gave up after " + definition.restarts().maxRestarts()
                + " restarts; last failure: " + reason);
            return;
          }
          long delay = definition.restarts().delayBefore(restarts).toMillis();
          coordinator.timer().schedule(() -> context.runOnContext(y -> {
            if (state == JobState.RESTARTING) {
              deploy(failed + 1);
            }
          }), delay, TimeUnit.MILLISECONDS);
        }));
  }

  private CompletableFuture<Void> cancelAttempt(int which) {
    List<CompletableFuture<Object>> cancels = new ArrayList<>();
    for (String worker : new HashSet<>(plan.placement().values())) {
      if (coordinator.isLive(worker)) {
        // A worker that died does not answer: it is done once the coordinator finds it lost.
        cancels.add(CompletableFuture.anyOf(request(worker, new Protocol.Cancel(name(), which)),
                coordinator.whenLost(worker))
            .orTimeout(60, TimeUnit.SECONDS).exceptionally(e -> null));
      }
    }
    // Each worker releases the attempt's channels when it cancels its tasks.
    return CompletableFuture.allOf(cancels.toArray(CompletableFuture[]::new));
  }

  private void finish() {
    checkpoints.stopPeriodic();
    checkpoints.abort("the job finished", -1);
    // A checkpoint whose acks are all in completes (and commits) on its own; wait for it, and
    // for every commit in flight, so that FINISHED means all output is visible.
    checkpoints.whenFinalized()
        .thenCompose(v -> onContext(checkpoints::commitFinalOutput))
        .whenComplete((v, e) -> context.runOnContext(x -> {
          cancelAttempt(attempt);
          if (e != null) {
            fail("committing the final output failed: " + Failures.message(e));
            return;
          }
          state = JobState.FINISHED;
          LOG.info("Job {} finished after {} restart(s)", name(), restarts);
          done();
        }));
  }

  private void fail(String reason) {
    lastFailure = reason;
    checkpoints.stopPeriodic();
    checkpoints.abort("the job failed", -1);
    cancelAttempt(attempt);
    state = JobState.FAILED;
    LOG.error("Job {} failed: {}", name(), reason);
    done();
  }

  private void done() {
    if (consumer != null) {
      consumer.unregister();
    }
    if (sampler != null) {
      sampler.cancel(false);
    }
    IllegalStateException ended = new IllegalStateException("job " + name() + " is " + state
        + (state == JobState.FAILED && lastFailure != null ? ": " + lastFailure : ""));
    started.completeExceptionally(ended);
    running.values().forEach(f -> f.completeExceptionally(ended));
    firstRecord.values().forEach(f -> f.completeExceptionally(ended));
    snapshot = statusNow();
    recordEnd();
    abortStagedOutput();
    result.complete(snapshot);
    coordinator.jobEnded();
  }

  /**
   * Once the job has finished or was canceled, deletes the sink output that tasks staged for
   * checkpoints that never completed (killed workers', aborted checkpoints'): no commit will
   * ever make it visible. It runs the orphan grace later, when uploads still in flight at the
   * end have landed, and takes only what was staged before the end. A failed job's staged
   * output is left for a restore from its last checkpoint; a coordinator that is closing
   * (the next one resumes the job) or deposed deletes nothing.
   */
  private void abortStagedOutput() {
    if (deposed || coordinator.closing()
        || (state != JobState.FINISHED && state != JobState.CANCELED)) {
      return;
    }
    Instant ended = Instant.now();
    CheckpointMetadata last = checkpoints.latest();
    List<String> keep = last == null ? List.of() : last.committed();
    coordinator.timer().schedule(() -> {
      if (coordinator.closing() || coordinator.lease().lost().isDone()) {
        return;
      }
      definition.graph().abortStaged(ended, keep).whenComplete((aborted, e) -> {
        if (e != null) {
          LOG.warn("Job {}: deleting output staged for checkpoints that never completed "
              + "failed: {}", name(), Failures.message(e));
        } else if (aborted > 0) {
          LOG.info("Job {}: deleted {} staged output object(s) of checkpoints that never "
              + "completed", name(), aborted);
        }
      });
    }, coordinator.orphanGrace().toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Marks the job's record as ended, so no later coordinator resumes it; not when this
   * coordinator closes (the next one resumes its jobs) or lost its lease.
   */
  private void recordEnd() {
    if (record == null || deposed || coordinator.closing()) {
      return;
    }
    writeRecord(record.with(attempt, parallelism, false, coordinator.lease().epoch()))
        .whenComplete((v, e) -> {
          if (e != null) {
            LOG.warn("Job {} ended, but its record {} could not say so (the next coordinator "
                + "may resume it): {}", name(), JobRecords.key(name()), Failures.message(e));
          }
        });
  }

  // ---------------------------------------------------------------------------- checkpoints

  /** Triggers a checkpoint now (after one in progress). */
  public CompletableFuture<CheckpointMetadata> triggerCheckpoint() {
    return onContext(() -> checkpoints.trigger(null));
  }

  /** Takes a savepoint: a checkpoint under {@code savepoints/<name>} that GC never deletes. */
  public CompletableFuture<CheckpointMetadata> triggerSavepoint(String savepointName) {
    return onContext(() -> checkpoints.trigger(savepointName));
  }

  /** Takes a savepoint, then cancels the job. */
  public CompletableFuture<CheckpointMetadata> stopWithSavepoint(String savepointName) {
    return triggerSavepoint(savepointName).thenCompose(m -> cancel().thenApply(s -> m));
  }

  // -------------------------------------------------------------------------------- rescale

  /**
   * Rescales keyed operators: a checkpoint whose barrier halts the sources, so the tasks stop
   * holding exactly its state; then the attempt is canceled and the next one deployed with the
   * new parallelism, each keyed task opening its key groups from the checkpoint (pointers only);
   * sources resume at the checkpoint's offsets. Completes once a keyed task of the new attempt
   * has processed a record, with the phases' durations.
   *
   * @param target parallelism per keyed operator uid
   * @throws IllegalArgumentException (in the future) naming an unknown operator or a
   *         parallelism outside 1..maxParallelism; nothing changes then
   * @throws RescaleConflictException (in the future) if the job is not running or a rescale is
   *         in progress
   */
  public CompletableFuture<RescaleReport> rescale(Map<String, Integer> target) {
    return rescale(target, false);
  }

  /** With {@code redeploy}, {@code target} may be empty: a job without keyed operators moves. */
  private CompletableFuture<RescaleReport> rescale(Map<String, Integer> target,
      boolean redeploy) {
    return onContext(() -> {
      Map<String, Integer> merged = validateRescale(target, redeploy);
      if (!redeploy && merged.equals(parallelism)) {
        // Nothing would move: answered at once, the running attempt untouched.
        return CompletableFuture.completedFuture(new RescaleReport(name(),
            Map.copyOf(parallelism), Map.copyOf(target), -1, attempt, 0, 0, 0, 0, 0));
      }
      rescaling = true;
      Map<String, Integer> before = Map.copyOf(parallelism);
      long start = System.nanoTime();
      long[] at = new long[3];
      return checkpoints.halting().handle((metadata, error) -> {
        if (error instanceof RescaleConflictException
            || error != null && error.getCause() instanceof RescaleConflictException) {
          throw error instanceof RescaleConflictException c ? c
              : (RescaleConflictException) error.getCause();
        }
        if (error != null) {
          // The sources may have halted at the barrier: only a restart resumes them.
          context.runOnContext(v -> failover("rescale checkpoint failed: "
              + Failures.message(error)));
          throw new IllegalStateException("the rescale's checkpoint failed, so the job runs on "
              + "at parallelism " + before + ": " + Failures.message(error), error);
        }
        at[0] = System.nanoTime();
        return metadata;
      }).thenCompose(metadata -> onContext(() -> {
        state = JobState.RESCALING;
        checkpoints.stopPeriodic();
        int old = attempt;
        rescalingFrom = old;
        return cancelAttempt(old).thenCompose(v -> onContext(() -> {
          at[1] = System.nanoTime();
          parallelism.putAll(target);
          CompletableFuture<Long> runs = waiter(running, old + 1);
          CompletableFuture<Long> first = waiter(firstRecord, old + 1);
          deploy(old + 1);
          return runs.thenCompose(r -> {
            at[2] = System.nanoTime();
            // Only keyed tasks report their first record.
            return parallelism.isEmpty() ? CompletableFuture.completedFuture(at[2]) : first;
          }).thenApply(f -> new RescaleReport(name(), before, Map.copyOf(target),
              metadata.checkpointId(), old + 1, millis(start, at[0]), millis(at[0], at[1]),
              millis(at[1], at[2]), millis(at[2], f), millis(start, f)));
        }));
      })).handle((report, error) -> {
        // The caller learns the outcome only once another rescale may start.
        CompletableFuture<RescaleReport> settled = new CompletableFuture<>();
        context.runOnContext(v -> {
          rescaling = false;
          if (report != null) {
            lastRescale = report;
            LOG.info("Job {} rescaled {} -> {} in {} ms (checkpoint {} ms, stop {} ms, deploy "
                + "and restore {} ms, to first record {} ms)", name(), report.from(),
                report.to(), report.totalMillis(), report.checkpointMillis(),
                report.stopMillis(), report.deployMillis(), report.firstRecordMillis());
            settled.complete(report);
          } else {
            settled.completeExceptionally(error);
          }
        });
        return settled;
      }).thenCompose(settled -> settled);
    });
  }

  /** The parallelism the job would run at; throws if the rescale must be refused. */
  private Map<String, Integer> validateRescale(Map<String, Integer> target, boolean redeploy) {
    if (target.isEmpty() && !redeploy) {
      throw new IllegalArgumentException("no operator to rescale");
    }
    definition.checkParallelism(target);
    // Checked before anything halts: a shape the new parallelism cannot run (a forward edge
    // between different parallelism) must refuse the rescale, not fail the job after it.
    Map<String, Integer> merged = new LinkedHashMap<>(parallelism);
    merged.putAll(target);
    try {
      new JobTopology(definition.graph(), definition.runtime(), merged);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("cannot rescale job " + name() + " to " + target
          + ": " + e.getMessage(), e);
    }
    if (rescaling) {
      throw new RescaleConflictException("job " + name() + " is being rescaled already");
    }
    if (!checkpoints.canCheckpoint()) {
      throw new RescaleConflictException(checkpoints.whyNoCheckpoint()
          + "; only a running job with a running source can be rescaled");
    }
    return merged;
  }

  private static long millis(long fromNanos, long toNanos) {
    return (toNanos - fromNanos) / 1_000_000;
  }

  private CompletableFuture<Long> waiter(Map<Integer, CompletableFuture<Long>> waiters,
      int forAttempt) {
    return waiters.computeIfAbsent(forAttempt, k -> new CompletableFuture<>());
  }

  private void completeWaiter(Map<Integer, CompletableFuture<Long>> waiters, int reached) {
    long now = System.nanoTime();
    waiters.entrySet().removeIf(e -> {
      if (e.getKey() <= reached) {
        e.getValue().complete(now);
        return true;
      }
      return false;
    });
  }

  /**
   * Redeploys the job at its current parallelism, by a rescale: its tasks land on the workers
   * tasks may be placed on now (how a worker is drained).
   */
  CompletableFuture<RescaleReport> redeploy() {
    return onContext(() -> rescale(Map.copyOf(parallelism), true));
  }

  /**
   * Marks the job's first attempt as a recovery from {@code cause} (a new leader resuming the
   * job), so that {@link JobStatus#lastRecovery} reports how long it took.
   */
  void recovering(String cause) {
    context.runOnContext(v -> recovery = Recovery.resumed(cause));
  }

  /** Whether a task of the running attempt is placed on {@code worker}. */
  CompletableFuture<Boolean> placedOn(String worker) {
    return onContext(() -> CompletableFuture.completedFuture(!state.terminal()
        && plan.placedOn(worker)));
  }

  /** The last completed rescale, or null. */
  public CompletableFuture<RescaleReport> lastRescale() {
    return onContext(() -> CompletableFuture.completedFuture(lastRescale));
  }

  // ------------------------------------------------------------------------------ lifecycle

  /** Cancels the job: its tasks stop without a snapshot; retained checkpoints stay. */
  public CompletableFuture<JobStatus> cancel() {
    return onContext(() -> {
      if (!state.terminal()) {
        state = JobState.CANCELLING;
        checkpoints.stopPeriodic();
        checkpoints.abort("the job is being canceled", -1);
        cancelAttempt(attempt).whenComplete((v, e) -> context.runOnContext(x -> {
          state = JobState.CANCELED;
          done();
        }));
      }
      return result;
    });
  }

  /**
   * The job's graph as it runs now: operators with their parallelism, uid and vertex (chain),
   * edges with their partitioning, whether they are chained and their serde.
   */
  public CompletableFuture<Map<String, Object>> graph() {
    return onContext(() -> CompletableFuture.completedFuture((plan.topology() != null
        ? plan.topology()
        : new JobTopology(definition.graph(), definition.runtime(), parallelism)).describe()));
  }

  /** The job's status now. */
  public CompletableFuture<JobStatus> status() {
    return onContext(() -> CompletableFuture.completedFuture(statusNow()));
  }

  /** The newest completed checkpoint or savepoint (else the restore point), or null. */
  public CompletableFuture<CheckpointMetadata> latestCheckpoint() {
    return onContext(() -> CompletableFuture.completedFuture(checkpoints.latest()));
  }

  /** The attempt deployed last (0 before the first): the next submission numbers after it. */
  int lastAttempt() {
    return attempt;
  }

  int firstAttempt() {
    return firstAttempt;
  }

  /** Milliseconds since the running attempt was deployed. */
  long attemptStartedAt() {
    return attemptStartedAt;
  }

  private JobStatus statusNow() {
    Map<String, Protocol.TaskReport> reports = reportsOfAttempt();
    List<JobStatus.TaskStatus> tasks = new ArrayList<>();
    long stateBytes = 0;
    for (Map.Entry<String, TaskSpec> e : plan.specs().entrySet()) {
      TaskSpec t = e.getValue();
      String operator = plan.topology().vertex(t.vertex()).name();
      Protocol.TaskReport r = reports.get(e.getKey());
      tasks.add(new JobStatus.TaskStatus(e.getKey(), operator, plan.workerOf(e.getKey()),
          t.keyGroups(), finished.contains(e.getKey()), r == null ? 0 : r.records(),
          r == null ? 0 : r.stateBytes()));
      stateBytes += r == null ? 0 : r.stateBytes();
    }
    return new JobStatus(name(), state, attempt, restarts, Map.copyOf(parallelism), tasks,
        checkpoints.summaries(), lastFailure, checkpoints.aborted(), checkpoints.completed(),
        throughput.total(plan, reports.values()), throughput.perSecond(), stateBytes,
        lastRescale, lastRecovery);
  }

  /** The running attempt's tasks' latest reports, by task id. */
  private Map<String, Protocol.TaskReport> reportsOfAttempt() {
    Map<String, Protocol.TaskReport> out = new HashMap<>();
    for (Protocol.TaskReport r : coordinator.taskReports(name())) {
      if (r.attempt() == attempt) {
        out.put(r.task(), r);
      }
    }
    return out;
  }

  /** Samples the source record count (each second, from the coordinator's timer). */
  private void sampleThroughput() {
    throughput.sample(throughput.total(plan, reportsOfAttempt().values()));
    snapshot = statusNow();
  }

  /** The status as of the last second, without a hop to the job's context (for metrics). */
  JobStatus snapshot() {
    JobStatus s = snapshot;
    return s != null ? s : new JobStatus(name(), JobState.SUBMITTED, 0, 0, Map.of(), List.of(),
        List.of(), null, 0, 0, 0, 0, 0, null, null);
  }

  private <T> CompletableFuture<T> onContext(Supplier<CompletableFuture<T>> action) {
    CompletableFuture<T> out = new CompletableFuture<>();
    context.runOnContext(v -> {
      try {
        action.get().whenComplete((r, e) -> {
          if (e != null) {
            out.completeExceptionally(e);
          } else {
            out.complete(r);
          }
        });
      } catch (RuntimeException e) {
        out.completeExceptionally(e);
      }
    });
    return out;
  }
}
