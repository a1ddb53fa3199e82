package io.stratus.scheduler;

import io.stratus.runtime.execution.JobTopology;
import io.stratus.runtime.graph.Transformation;
import io.stratus.runtime.execution.TaskSnapshot;
import io.stratus.runtime.execution.TaskSpec;
import io.stratus.runtime.state.StateHandle;
import io.stratus.store.objectstore.ObjectStoreException;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one job for the coordinator: deploys its tasks to workers as an attempt, coordinates
 * checkpoints and savepoints (trigger barriers at the sources, collect every task's ack, write
 * {@code _metadata}, commit sink output, retire old checkpoints), and on a task failure or a
 * lost worker cancels the attempt and deploys the next one from the last completed checkpoint,
 * as the restart strategy allows. Confined to its own Vert.x context; public methods hop there.
 */
public final class JobController {

  private static final Logger LOG = LoggerFactory.getLogger(JobController.class);
  private static final int SUMMARIES = 20;
  private static final java.time.Duration DEPLOY_TIMEOUT = java.time.Duration.ofMinutes(30);

  /** A checkpoint waiting for acks. */
  private static final class Pending {
    final long id;
    final int attempt;
    final String savepointName;
    final long startedAt = System.currentTimeMillis();
    final Set<String> waitingFor;
    final Map<String, TaskSnapshot> acks = new HashMap<>();
    final CompletableFuture<CheckpointMetadata> completion = new CompletableFuture<>();
    java.util.concurrent.ScheduledFuture<?> timeoutTimer;
    /** Every ack is in and the metadata is being written: it can no longer be aborted. */
    boolean finalizing;
    /** Sources that had ended when it began, with their end offsets. */
    final Map<String, Long> finishedSources;
    /** Output the ended tasks staged at their end (a prefix of the job's final output). */
    final List<String> finishedOutput;

    Pending(long id, int attempt, String savepointName, Set<String> tasks,
        Map<String, Long> finishedSources, List<String> finishedOutput) {
      this.id = id;
      this.attempt = attempt;
      this.savepointName = savepointName;
      this.waitingFor = new HashSet<>(tasks);
      this.finishedSources = Map.copyOf(finishedSources);
      this.finishedOutput = List.copyOf(finishedOutput);
    }
  }

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
  private JobTopology topology;
  private JobState state = JobState.SUBMITTED;
  private final int firstAttempt;
  private int attempt;
  private Map<String, String> placement = new LinkedHashMap<>();
  private Map<String, TaskSpec> specs = new LinkedHashMap<>();
  private final Set<String> finished = new HashSet<>();
  /** Where each finished source task ended: checkpoints after its end record it. */
  private final Map<String, Long> finishedSources = new HashMap<>();
  /**
   * Output the finished tasks staged at their end and no completed checkpoint has committed
   * yet: the next checkpoint commits it (its records are all before that checkpoint's
   * barriers), else the job's end does.
   */
  private final List<String> finalCommittables = new ArrayList<>();
  /** Output staged for checkpoints of this attempt that were aborted: it covers records before
   * their barriers, which no replay will bring back, so the next completed checkpoint commits
   * it. */
  private final List<String> carried = new ArrayList<>();
  private CheckpointMetadata restoreFrom;
  private int restarts;
  private long nextCheckpointId = 1;
  private Pending pending;
  /** Checkpoint, savepoint and rescale requests waiting for {@link #pending}, oldest first. */
  private final Deque<Runnable> waiting = new ArrayDeque<>();
  private final CheckpointRetention retention;
  private final Deque<JobStatus.CheckpointSummary> summaries = new ArrayDeque<>();
  private long lastCheckpointEnd;
  private java.util.concurrent.ScheduledFuture<?> periodicTimer;
  private String lastFailure;
  private MessageConsumer<Object> consumer;
  private long attemptStartedAt;
  private boolean restartScheduled;
  private long abortedCheckpoints;
  /**
   * Completes when every commit started so far has ended. A job is finished only after that:
   * a checkpoint's commit still running would make its output appear after the job reported
   * its end.
   */
  private CompletableFuture<Void> commitsInFlight = CompletableFuture.completedFuture(null);
  private long completedCheckpoints;
  /** Waiters for an attempt to run, and for its first processed record, by attempt. */
  private final Map<Integer, CompletableFuture<Long>> running = new HashMap<>();
  private final Map<Integer, CompletableFuture<Long>> firstRecord = new HashMap<>();
  private java.util.concurrent.ScheduledFuture<?> sampler;
  private volatile JobStatus snapshot;
  private boolean rescaling;
  private int rescalingFrom = -1;
  /**
   * The attempt whose sources were sent a halting barrier (a rescale's checkpoint), or -1. Its
   * sources emit nothing after that barrier and it is canceled next: no other checkpoint may
   * begin on it. Its barrier would race the cancel; unless every task acked first, the
   * checkpoint would stay pending (the next attempt ignores the old one's acks), holding back
   * every later checkpoint and rescale until it timed out.
   */
  private int haltedAttempt = -1;
  private RescaleReport lastRescale;
  private RecoveryReport lastRecovery;
  /** The failure being recovered from: its cause and when it was detected (0: none). */
  private String recoveringFrom;
  private long failureDetectedAt;
  private long attemptCanceledAt;
  private long attemptRunningAt;
  /** Source records of attempts that ended, so counts stay monotonic across restarts. */
  private long sourceRecordsBefore;
  private long attemptSourceRecords;
  private final Deque<long[]> throughputSamples = new ArrayDeque<>();

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
    this.restoreFrom = restore;
    this.retention = new CheckpointRetention(definition.name(),
        definition.checkpoints().retained(), coordinator.storage(), coordinator.registry(),
        coordinator.lease()::confirmHeld);
    if (restore != null) {
      nextCheckpointId = restore.checkpointId() + 1;
    }
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
                + " cannot be used: " + rootMessage(e));
          } else {
            nextCheckpointId = Math.max(nextCheckpointId,
                retention.adoptAtStart(points, restoreFrom));
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
                + rootMessage(e));
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
    // Acks of an older attempt are ignored from now on: a checkpoint of it still waiting for
    // acks can never complete, and would hold back every later checkpoint and rescale.
    if (pending != null && pending.attempt != nextAttempt) {
      abortPending("attempt " + pending.attempt + " was replaced by attempt " + nextAttempt, -1);
    }
    sourceRecordsBefore = sourceRecords(reportsOfAttempt());
    attemptSourceRecords = 0;
    restartScheduled = false;
    attempt = nextAttempt;
    attemptStartedAt = System.currentTimeMillis();
    finished.clear();
    finishedSources.clear();
    finalCommittables.clear();
    carried.clear();
    int deploying = attempt;
    recordAttempt().whenComplete((v, e) -> context.runOnContext(x -> {
      if (deploying != attempt || state.terminal()) {
        return;
      }
      if (e != null && rootCause(e) instanceof JobRecords.FencedException f) {
        deposed = true;
        fail("another coordinator runs this job now: " + f.getMessage());
      } else if (e != null) {
        failover("cannot record attempt " + deploying + " in " + JobRecords.key(name()) + ": "
            + rootMessage(e));
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
      return CompletableFuture.completedFuture(null);
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
    if (restoreFrom == null || restoreFrom.committed().isEmpty()) {
      deployTasks();
      return;
    }
    // The restore point's output may not be committed yet (its commit failed, or the previous
    // coordinator stopped first); committing is idempotent.
    int deploying = attempt;
    commit(restoreFrom.committed()).whenComplete((v, e) -> context.runOnContext(x -> {
      if (deploying != attempt || state.terminal()) {
        return;
      }
      if (e != null) {
        failover("committing the output of " + restoreFrom.kind() + " "
            + restoreFrom.checkpointId() + " failed: " + rootMessage(e));
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
          failover("no live worker to deploy to: " + rootMessage(e));
        } else {
          deployTasks();
        }
      }));
      return;
    }
    List<TaskSpec> tasks;
    try {
      topology = new JobTopology(definition.graph(), definition.runtime(), parallelism);
      for (JobTopology.Vertex v : topology.vertices()) {
        if (topology.keyedHead(v.index()) != null) {
          parallelism.put(topology.keyedHead(v.index()).uid(), v.parallelism());
        }
      }
      tasks = withRestore(topology.tasks(attempt));
    } catch (RuntimeException e) {
      fail("cannot deploy: " + e.getMessage());
      return;
    }
    placement = new LinkedHashMap<>();
    specs = new LinkedHashMap<>();
    Map<String, List<TaskSpec>> perWorker = new LinkedHashMap<>();
    int next = 0;
    for (TaskSpec t : tasks) {
      String worker = workers.get(next++ % workers.size());
      placement.put(t.taskId(), worker);
      specs.put(t.taskId(), t);
      perWorker.computeIfAbsent(worker, w -> new ArrayList<>()).add(t);
    }
    int deploying = attempt;
    Map<String, String> addresses = coordinator.dataAddresses(perWorker.keySet());
    List<CompletableFuture<Object>> deployed = new ArrayList<>();
    for (Map.Entry<String, List<TaskSpec>> e : perWorker.entrySet()) {
      String worker = e.getKey();
      // A worker that dies after it got its deploy never answers: fail the deploy once it is
      // known lost, not after the deploy timeout.
      CompletableFuture<Object> lostFirst = coordinator.whenLost(worker).thenCompose(v ->
          CompletableFuture.failedFuture(new IllegalStateException("worker " + worker
              + " was lost while the attempt was deployed")));
      deployed.add(request(worker, new Protocol.Deploy(name(), parameters, attempt,
          Map.copyOf(parallelism), e.getValue(), Map.copyOf(placement), addresses))
          .applyToEither(lostFirst, reply -> reply));
    }
    CompletableFuture.allOf(deployed.toArray(CompletableFuture[]::new))
        .whenComplete((v, error) -> context.runOnContext(x -> {
          if (deploying != attempt || state.terminal()) {
            return;
          }
          if (error != null) {
            failover("deploying attempt " + deploying + " failed: " + rootMessage(error));
            return;
          }
          for (String worker : perWorker.keySet()) {
            request(worker, new Protocol.Start(name(), attempt));
          }
          state = JobState.RUNNING;
          attemptRunningAt = System.currentTimeMillis();
          started.complete(null);
          completeWaiter(running, attempt);
          LOG.info("Job {} attempt {} running: {} tasks on {} worker(s){}", name(), attempt,
              tasks.size(), perWorker.size(), restoreFrom == null ? ""
                  : ", restored from " + restoreFrom.kind() + " " + restoreFrom.checkpointId());
          schedulePeriodicCheckpoint();
        }));
  }

  /** The attempt's tasks with their sources' offsets and keyed state from the restore point. */
  private List<TaskSpec> withRestore(List<TaskSpec> fresh) {
    if (restoreFrom == null) {
      return fresh;
    }
    long sources = topology.vertices().stream()
        .filter(v -> topology.sourceHead(v.index()) != null).count();
    if (sources > 1 && restoreFrom.sources().stream().anyMatch(s -> s.source() == null)) {
      throw new IllegalArgumentException(restoreFrom.kind() + " " + restoreFrom.checkpointId()
          + " was taken when the job had one source (its splits carry no source name); the "
          + "job now has " + sources + ", so which one its offsets belong to is unknown");
    }
    List<TaskSpec> out = new ArrayList<>();
    for (TaskSpec t : fresh) {
      Transformation.SourceNode source = topology.sourceHead(t.vertex());
      Transformation.KeyedProcessNode keyed = topology.keyedHead(t.vertex());
      if (source != null) {
        Long offset = null;
        for (CheckpointMetadata.SourceSplit split : restoreFrom.splitsOf(source.name())) {
          if (split.parallelism() != t.parallelism()) {
            throw new IllegalArgumentException("source '" + source.name() + "' had parallelism "
                + split.parallelism() + " in " + restoreFrom.kind() + " "
                + restoreFrom.checkpointId() + ", now " + t.parallelism()
                + "; source parallelism cannot change");
          }
          if (split.subtask() == t.subtask()) {
            offset = split.offset();
          }
        }
        out.add(new TaskSpec(t.job(), t.attempt(), t.vertex(), t.subtask(), t.parallelism(),
            null, offset, List.of()));
      } else if (keyed != null) {
        if (!restoreFrom.backend().equals(definition.runtime().backend())) {
          throw new IllegalArgumentException(restoreFrom.kind() + " "
              + restoreFrom.checkpointId() + " holds " + restoreFrom.backend()
              + " state; the job runs the " + definition.runtime().backend() + " backend");
        }
        CheckpointMetadata.Operator op = restoreFrom.operator(keyed.uid());
        List<StateHandle> handles = new ArrayList<>();
        if (op != null) {
          for (CheckpointMetadata.TaskState s : op.tasks()) {
            if (s.keyGroups().overlaps(t.keyGroups())) {
              handles.add(s.state());
            }
          }
        }
        out.add(new TaskSpec(t.job(), t.attempt(), t.vertex(), t.subtask(), t.parallelism(),
            t.keyGroups(), null, handles));
      } else {
        out.add(t);
      }
    }
    return out;
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
      onAck(a);
    } else if (m instanceof Protocol.Decline d && d.attempt() == attempt) {
      carried.addAll(d.staged());
      abortPending("task " + d.task() + " declined checkpoint " + d.checkpointId() + ": "
          + d.reason(), d.checkpointId());
    } else if (m instanceof Protocol.TaskFailed f && f.attempt() == attempt) {
      failover("task " + f.task() + " failed on worker " + f.worker() + ": " + f.error());
    } else if (m instanceof Protocol.FirstRecord f && f.attempt() == attempt) {
      completeWaiter(firstRecord, attempt);
      if (failureDetectedAt != 0) {
        lastRecovery = new RecoveryReport(recoveringFrom, attempt,
            restoreFrom == null ? -1 : restoreFrom.checkpointId(), failureDetectedAt,
            Math.max(failureDetectedAt, attemptCanceledAt), attemptRunningAt,
            System.currentTimeMillis());
        failureDetectedAt = 0;
        LOG.info("Job {} recovered in {} ms (attempt {} processed records again): {}", name(),
            lastRecovery.totalMillis(), attempt, recoveringFrom);
      }
    } else if (m instanceof Protocol.TaskFinished f && f.attempt() == attempt) {
      finished.add(f.task());
      if (f.sourceOffset() != null) {
        finishedSources.put(f.task(), f.sourceOffset());
      }
      if (pending != null && pending.waitingFor.contains(f.task())) {
        // It ended before the checkpoint's barrier reached it: it will never ack.
        abortPending("task " + f.task() + " ended before checkpoint " + pending.id
            + " reached it", pending.id);
      }
      finalCommittables.addAll(f.committables());
      if (finished.size() == placement.size()) {
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
      if (placement.containsValue(worker) && (state == JobState.RUNNING
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
    if (failureDetectedAt == 0) {
      failureDetectedAt = System.currentTimeMillis();
      recoveringFrom = reason;
    }
    LOG.warn("Job {} attempt {} failed: {}", name(), attempt, reason);
    state = JobState.RESTARTING;
    stopPeriodicCheckpoints();
    abortPending("the job is restarting", -1);
    int failed = attempt;
    CompletableFuture<?> finalizing = pending != null && pending.finalizing
        ? pending.completion.handle((m, e) -> null) : CompletableFuture.completedFuture(null);
    cancelAttempt(failed).thenCombine(finalizing, (a, b) -> null)
        .whenComplete((v, e) -> context.runOnContext(x -> {
      attemptCanceledAt = System.currentTimeMillis();
      restarts++;
      if (restarts > definition.restarts().maxRestarts()) {
        fail("gave up after " + definition.restarts().maxRestarts() + " restarts; last failure: "
            + reason);
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
    for (String worker : new HashSet<>(placement.values())) {
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
    stopPeriodicCheckpoints();
    abortPending("the job finished", -1);
    // A checkpoint whose acks are all in completes (and commits) on its own; wait for it, and
    // for every commit in flight, so that FINISHED means all output is visible.
    CompletableFuture<?> finalizing = pending != null && pending.finalizing
        ? pending.completion.handle((m, e) -> null) : CompletableFuture.completedFuture(null);
    finalizing.thenCompose(v -> onContext(() -> {
      finalCommittables.addAll(carried);
      carried.clear();
      return commit(finalCommittables).thenCompose(c -> commitsInFlight);
    })).whenComplete((v, e) -> context.runOnContext(x -> {
      cancelAttempt(attempt);
      if (e != null) {
        fail("committing the final output failed: " + rootMessage(e));
        return;
      }
      state = JobState.FINISHED;
      LOG.info("Job {} finished after {} restart(s)", name(), restarts);
      done();
    }));
  }

  private void fail(String reason) {
    lastFailure = reason;
    stopPeriodicCheckpoints();
    abortPending("the job failed", -1);
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
    result.complete(snapshot);
    coordinator.jobEnded();
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
                + "may resume it): {}", name(), JobRecords.key(name()), rootMessage(e));
          }
        });
  }

  // ---------------------------------------------------------------------------- checkpoints

  private void schedulePeriodicCheckpoint() {
    stopPeriodicCheckpoints();
    long interval = definition.checkpoints().interval().toMillis();
    if (interval <= 0) {
      return;
    }
    // Timed from the coordinator's own thread: Vert.x timers on an event loop that tasks keep
    // busy fire late.
    periodicTimer = coordinator.timer().scheduleAtFixedRate(() -> context.runOnContext(v -> {
      long sinceLast = System.currentTimeMillis() - lastCheckpointEnd;
      // A rescale takes its own (halting) checkpoint: none in between, which would delay it.
      if (state == JobState.RUNNING && pending == null && waiting.isEmpty()
          && canCheckpoint() && !rescaling
          && sinceLast >= definition.checkpoints().minPause().toMillis()) {
        begin(null);
      }
    }), interval, interval, TimeUnit.MILLISECONDS);
  }

  private void stopPeriodicCheckpoints() {
    if (periodicTimer != null) {
      periodicTimer.cancel(false);
      periodicTimer = null;
    }
  }

  /** Triggers a checkpoint now (after one in progress). */
  public CompletableFuture<CheckpointMetadata> triggerCheckpoint() {
    return onContext(() -> afterPending(() -> begin(null)));
  }

  /** Takes a savepoint: a checkpoint under {@code savepoints/<name>} that GC never deletes. */
  public CompletableFuture<CheckpointMetadata> triggerSavepoint(String savepointName) {
    return onContext(() -> afterPending(() -> begin(savepointName)));
  }

  /** Takes a savepoint, then cancels the job. */
  public CompletableFuture<CheckpointMetadata> stopWithSavepoint(String savepointName) {
    return triggerSavepoint(savepointName).thenCompose(m -> cancel().thenApply(s -> m));
  }

  /**
   * Runs {@code next} (which begins a checkpoint) now if none is in progress and no request
   * waits, else once the requests before it have begun theirs: requests are served in arrival
   * order, and before any periodic checkpoint, so that none waits indefinitely.
   */
  private CompletableFuture<CheckpointMetadata> afterPending(
      Supplier<CompletableFuture<CheckpointMetadata>> next) {
    if (pending == null && waiting.isEmpty()) {
      return next.get();
    }
    CompletableFuture<CheckpointMetadata> out = new CompletableFuture<>();
    waiting.addLast(() -> {
      CompletableFuture<CheckpointMetadata> begun;
      try {
        begun = next.get();
      } catch (RuntimeException e) {
        begun = CompletableFuture.failedFuture(e);
      }
      begun.whenComplete((m, e) -> {
        if (e != null) {
          out.completeExceptionally(e);
        } else {
          out.complete(m);
        }
      });
    });
    return out;
  }

  /** Begins the waiting requests, in order, until one has a checkpoint in progress. */
  private void startWaiting() {
    while (pending == null && !waiting.isEmpty()) {
      waiting.removeFirst().run();
    }
  }

  private CompletableFuture<CheckpointMetadata> begin(String savepointName) {
    return begin(savepointName, false);
  }

  /**
   * Whether a checkpoint can be taken: the job runs, and every task that has not ended still
   * has a running source upstream, whose barrier will reach it. Tasks that ended are recorded
   * as ended, as Flink does since FLIP-147: a source at its end offset, any other task with no
   * state (all its input has ended: restored, it ends again at once, with nothing to emit); the
   * output they staged at their end is committed with the checkpoint.
   */
  private boolean canCheckpoint() {
    if (state != JobState.RUNNING) {
      return false;
    }
    Set<Integer> runningSources = new HashSet<>();
    for (String task : sourceTasks()) {
      if (!finished.contains(task)) {
        runningSources.add(specs.get(task).vertex());
      }
    }
    if (runningSources.isEmpty()) {
      return false;
    }
    for (Map.Entry<String, TaskSpec> e : specs.entrySet()) {
      if (!finished.contains(e.getKey()) && topology.sourcesUpstreamOf(e.getValue().vertex())
          .stream().noneMatch(runningSources::contains)) {
        return false;
      }
    }
    return true;
  }

  private List<String> sourceTasks() {
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, TaskSpec> e : specs.entrySet()) {
      if (topology.sourceHead(e.getValue().vertex()) != null) {
        out.add(e.getKey());
      }
    }
    return out;
  }

  /** Why {@link #canCheckpoint} says no, for messages. */
  private String whyNoCheckpoint() {
    return "job " + name() + " is " + state + (finished.isEmpty() ? ""
        : " and finishing (tasks " + finished + " of attempt " + attempt + " ended)");
  }

  private CompletableFuture<CheckpointMetadata> begin(String savepointName, boolean halt) {
    if (!canCheckpoint()) {
      return CompletableFuture.failedFuture(new IllegalStateException(whyNoCheckpoint()
          + "; it cannot checkpoint now"));
    }
    if (attempt == haltedAttempt) {
      return CompletableFuture.failedFuture(new IllegalStateException("job " + name()
          + " is being rescaled (the sources of attempt " + attempt + " have halted); it "
          + "cannot checkpoint now"));
    }
    if (halt) {
      haltedAttempt = attempt;
    }
    Set<String> running = new HashSet<>(placement.keySet());
    running.removeAll(finished);
    Pending p = new Pending(nextCheckpointId++, attempt, savepointName, running,
        finishedSources, finalCommittables);
    pending = p;
    Map<String, List<String>> sourcesByWorker = new LinkedHashMap<>();
    for (String task : sourceTasks()) {
      if (!finished.contains(task)) {
        sourcesByWorker.computeIfAbsent(placement.get(task), w -> new ArrayList<>()).add(task);
      }
    }
    sourcesByWorker.forEach((worker, tasks) ->
        request(worker, new Protocol.Trigger(name(), attempt, p.id, halt, tasks)));
    p.timeoutTimer = coordinator.timer().schedule(() -> context.runOnContext(v ->
            abortPending("checkpoint " + p.id + " timed out after "
                + definition.checkpoints().timeout(), p.id)),
        definition.checkpoints().timeout().toMillis(), TimeUnit.MILLISECONDS);
    return p.completion;
  }

  private void onAck(Protocol.Ack a) {
    Pending p = pending;
    if (p == null || p.id != a.checkpointId()) {
      // A late ack of an aborted checkpoint.
      carried.addAll(a.snapshot().committables());
      return;
    }
    p.acks.put(a.task(), a.snapshot());
    p.waitingFor.remove(a.task());
    if (p.waitingFor.isEmpty()) {
      completePending(p);
    }
  }

  private void completePending(Pending p) {
    p.timeoutTimer.cancel(false);
    p.finalizing = true;
    List<String> carriedHere = List.copyOf(carried);
    carried.clear();
    CheckpointMetadata metadata = metadataOf(p, carriedHere);
    // Fenced: a coordinator that a successor deposed never completes a checkpoint.
    coordinator.lease().confirmHeld()
        .thenCompose(v -> coordinator.storage().write(metadata, p.savepointName))
        .whenComplete((key, error) -> context.runOnContext(v -> {
          if (pending == p) {
            pending = null;
            context.runOnContext(x -> startWaiting());
          }
          lastCheckpointEnd = System.currentTimeMillis();
          if (error != null) {
            carried.addAll(0, carriedHere);
            for (TaskSnapshot s : p.acks.values()) {
              carried.addAll(s.committables());
            }
            abortedCheckpoints++;
            LOG.warn("Checkpoint {} of job {} could not be completed; the previous one stays "
                + "valid: {}", p.id, name(), rootMessage(error));
            p.completion.completeExceptionally(error);
            return;
          }
          // Its metadata is written: the checkpoint has happened, and every restart restores
          // from it (and commits its output again, which is idempotent).
          retention.completed(metadata, key);
          restoreFrom = metadata;
          if (p.attempt == attempt) {
            // Committed with this checkpoint from now on: not again at the job's end.
            finalCommittables.subList(0, p.finishedOutput.size()).clear();
          }
          completedCheckpoints++;
          LOG.info("{} {} of job {} completed in {} ms: {}", metadata.kind(), p.id, name(),
              lastCheckpointEnd - p.startedAt, key);
          long uploaded = 0;
          for (TaskSnapshot s : p.acks.values()) {
            uploaded += s.uploadedBytes();
          }
          summaries.addLast(new JobStatus.CheckpointSummary(p.id, metadata.kind(), key,
              lastCheckpointEnd - p.startedAt, lastCheckpointEnd, uploaded));
          while (summaries.size() > SUMMARIES) {
            summaries.removeFirst();
          }
          int committing = attempt;
          commit(metadata.committed()).whenComplete((c, commitError) -> context.runOnContext(
              x -> {
                if (commitError == null) {
                  p.completion.complete(metadata);
                  return;
                }
                String message = "committing the output of " + metadata.kind() + " " + p.id
                    + " failed: " + rootMessage(commitError);
                p.completion.completeExceptionally(new IllegalStateException(message
                    + "; it completed, and the restart commits its output again", commitError));
                if (committing == attempt) {
                  failover(message);
                }
              }));
        }));
  }

  private CheckpointMetadata metadataOf(Pending p, List<String> carriedHere) {
    List<CheckpointMetadata.SourceSplit> sources = new ArrayList<>();
    Map<Integer, List<CheckpointMetadata.TaskState>> byVertex = new HashMap<>();
    List<String> committed = new ArrayList<>(carriedHere);
    committed.addAll(p.finishedOutput);
    p.finishedSources.forEach((task, offset) -> {
      TaskSpec spec = specs.get(task);
      sources.add(new CheckpointMetadata.SourceSplit(topology.sourceHead(spec.vertex()).name(),
          spec.subtask(), spec.parallelism(), offset));
    });
    for (Map.Entry<String, TaskSnapshot> e : p.acks.entrySet()) {
      TaskSpec spec = specs.get(e.getKey());
      TaskSnapshot s = e.getValue();
      committed.addAll(s.committables());
      Transformation.SourceNode source = topology.sourceHead(spec.vertex());
      if (source != null) {
        sources.add(new CheckpointMetadata.SourceSplit(source.name(), spec.subtask(),
            spec.parallelism(), s.sourceOffset()));
      } else if (s.state() != null) {
        byVertex.computeIfAbsent(spec.vertex(), k -> new ArrayList<>())
            .add(new CheckpointMetadata.TaskState(spec.subtask(), spec.keyGroups(), s.state()));
      }
    }
    sources.sort((a, b) -> a.source().equals(b.source())
        ? Integer.compare(a.subtask(), b.subtask()) : a.source().compareTo(b.source()));
    List<CheckpointMetadata.Operator> operators = new ArrayList<>();
    for (JobTopology.Vertex v : topology.vertices()) {
      Transformation.KeyedProcessNode keyed = topology.keyedHead(v.index());
      if (keyed == null) {
        continue;
      }
      List<CheckpointMetadata.TaskState> sorted = new ArrayList<>(
          byVertex.getOrDefault(v.index(), List.of()));
      sorted.sort((a, b) -> Integer.compare(a.subtask(), b.subtask()));
      operators.add(new CheckpointMetadata.Operator(keyed.uid(), v.parallelism(), sorted));
    }
    return new CheckpointMetadata(name(), p.id,
        p.savepointName != null ? CheckpointMetadata.SAVEPOINT : CheckpointMetadata.CHECKPOINT,
        System.currentTimeMillis(), definition.runtime().backend(), topology.maxParallelism(),
        sources, operators, committed);
  }

  private void abortPending(String reason, long checkpointId) {
    Pending p = pending;
    if (p == null || p.finalizing || (checkpointId >= 0 && p.id != checkpointId)) {
      return;
    }
    pending = null;
    context.runOnContext(x -> startWaiting());
    lastCheckpointEnd = System.currentTimeMillis();
    for (TaskSnapshot s : p.acks.values()) {
      carried.addAll(s.committables());
    }
    if (p.timeoutTimer != null) {
      p.timeoutTimer.cancel(false);
    }
    abortedCheckpoints++;
    LOG.warn("Checkpoint {} of job {} aborted; the previous one stays valid: {}", p.id, name(),
        reason);
    p.completion.completeExceptionally(new IllegalStateException("checkpoint " + p.id
        + " aborted: " + reason));
  }

  private CompletableFuture<Void> commit(List<String> committables) {
    if (committables.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<Void> done = definition.graph().commit(committables);
    commitsInFlight = CompletableFuture.allOf(commitsInFlight, done.handle((v, e) -> null));
    return done;
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
    return onContext(() -> {
      validateRescale(target);
      rescaling = true;
      Map<String, Integer> before = Map.copyOf(parallelism);
      long start = System.nanoTime();
      long[] at = new long[3];
      return afterPending(() -> {
        if (!canCheckpoint()) {
          throw new RescaleConflictException(whyNoCheckpoint() + "; nothing changed");
        }
        return begin(null, true);
      }).handle((metadata, error) -> {
        if (error instanceof RescaleConflictException
            || error != null && error.getCause() instanceof RescaleConflictException) {
          throw error instanceof RescaleConflictException c ? c
              : (RescaleConflictException) error.getCause();
        }
        if (error != null) {
          // The sources may have halted at the barrier: only a restart resumes them.
          context.runOnContext(v -> failover("rescale checkpoint failed: "
              + rootMessage(error)));
          throw new IllegalStateException("the rescale's checkpoint failed, so the job runs on "
              + "at parallelism " + before + ": " + rootMessage(error), error);
        }
        at[0] = System.nanoTime();
        return metadata;
      }).thenCompose(metadata -> onContext(() -> {
        state = JobState.RESCALING;
        stopPeriodicCheckpoints();
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
            return first;
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

  private void validateRescale(Map<String, Integer> target) {
    if (target.isEmpty()) {
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
    if (!canCheckpoint()) {
      throw new RescaleConflictException(whyNoCheckpoint() + "; only a running job with a "
          + "running source can be rescaled");
    }
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
    return onContext(() -> rescale(Map.copyOf(parallelism)));
  }

  /**
   * Marks the job's first attempt as a recovery from {@code cause} (a new leader resuming the
   * job), so that {@link JobStatus#lastRecovery} reports how long it took.
   */
  void recovering(String cause) {
    context.runOnContext(v -> {
      failureDetectedAt = System.currentTimeMillis();
      attemptCanceledAt = failureDetectedAt;
      recoveringFrom = cause;
    });
  }

  /** Whether a task of the running attempt is placed on {@code worker}. */
  CompletableFuture<Boolean> placedOn(String worker) {
    return onContext(() -> CompletableFuture.completedFuture(!state.terminal()
        && placement.containsValue(worker)));
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
        stopPeriodicCheckpoints();
        abortPending("the job is being canceled", -1);
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
    return onContext(() -> CompletableFuture.completedFuture((topology != null ? topology
        : new JobTopology(definition.graph(), definition.runtime(), parallelism)).describe()));
  }

  /** The job's status now. */
  public CompletableFuture<JobStatus> status() {
    return onContext(() -> CompletableFuture.completedFuture(statusNow()));
  }

  /** The key of the newest completed checkpoint's or savepoint's metadata, or null. */
  public CompletableFuture<CheckpointMetadata> latestCheckpoint() {
    return onContext(() -> CompletableFuture.completedFuture(restoreFrom));
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
    for (Map.Entry<String, TaskSpec> e : specs.entrySet()) {
      TaskSpec t = e.getValue();
      String operator = topology.vertex(t.vertex()).name();
      Protocol.TaskReport r = reports.get(e.getKey());
      tasks.add(new JobStatus.TaskStatus(e.getKey(), operator, placement.get(e.getKey()),
          t.keyGroups(), finished.contains(e.getKey()), r == null ? 0 : r.records(),
          r == null ? 0 : r.stateBytes()));
      stateBytes += r == null ? 0 : r.stateBytes();
    }
    return new JobStatus(name(), state, attempt, restarts, Map.copyOf(parallelism), tasks,
        List.copyOf(summaries), lastFailure, abortedCheckpoints, completedCheckpoints,
        sourceRecords(reports), recordsPerSecond(), stateBytes, lastRescale, lastRecovery);
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

  private long sourceRecords(Map<String, Protocol.TaskReport> reports) {
    long attemptTotal = 0;
    for (Protocol.TaskReport r : reports.values()) {
      TaskSpec spec = specs.get(r.task());
      if (spec != null && topology.sourceHead(spec.vertex()) != null) {
        attemptTotal += r.records();
      }
    }
    // Canceled tasks stop being reported: keep the most the attempt was seen to reach.
    attemptSourceRecords = Math.max(attemptSourceRecords, attemptTotal);
    return sourceRecordsBefore + attemptSourceRecords;
  }

  /** Samples the source record count (each second, from the coordinator's timer). */
  private void sampleThroughput() {
    throughputSamples.addLast(new long[] {System.currentTimeMillis(),
        sourceRecords(reportsOfAttempt())});
    while (throughputSamples.size() > 6) {
      throughputSamples.removeFirst();
    }
    snapshot = statusNow();
  }

  /** The status as of the last second, without a hop to the job's context (for metrics). */
  JobStatus snapshot() {
    JobStatus s = snapshot;
    return s != null ? s : new JobStatus(name(), JobState.SUBMITTED, 0, 0, Map.of(), List.of(),
        List.of(), null, 0, 0, 0, 0, 0, null, null);
  }

  private double recordsPerSecond() {
    if (throughputSamples.size() < 2) {
      return 0;
    }
    long[] first = throughputSamples.getFirst();
    long[] last = throughputSamples.getLast();
    return last[0] == first[0] ? 0 : (last[1] - first[1]) * 1000.0 / (last[0] - first[0]);
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

  /** The innermost cause of {@code e}. */
  private static Throwable rootCause(Throwable e) {
    Throwable c = e;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c;
  }

  /**
   * The message that explains {@code e}: an object-store failure's own (it names the operation,
   * key and endpoint; its causes do not), else the root cause's.
   */
  private static String rootMessage(Throwable e) {
    Throwable c = e;
    while (c.getCause() != null && c.getCause() != c && !(c instanceof ObjectStoreException)) {
      c = c.getCause();
    }
    return String.valueOf(c.getMessage() != null ? c.getMessage() : c);
  }
}
