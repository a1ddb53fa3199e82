package io.stratus.scheduler;

import io.stratus.runtime.execution.JobTopology;
import io.stratus.runtime.execution.TaskSnapshot;
import io.stratus.runtime.execution.TaskSpec;
import io.stratus.runtime.graph.Transformation;
import io.vertx.core.Context;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
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
 * The checkpoints of one job: triggers barriers at the running attempt's sources (periodically
 * and on request), collects every task's ack, writes {@code _metadata} (fenced by the
 * coordinator's lease), commits the sink output the checkpoint covers and retires old
 * checkpoints. Also keeps the output that no checkpoint has committed yet (what ended tasks
 * staged, what aborted checkpoints' acks staged), which the next completed checkpoint or the
 * job's end commits. Confined to the job's context, like its {@link JobController}.
 */
final class CheckpointCoordinator {

  private static final Logger LOG = LoggerFactory.getLogger(CheckpointCoordinator.class);
  private static final int SUMMARIES = 20;

  /** What the checkpoints of a job read from its controller and report back to it. */
  interface Job {
    String name();

    /** The attempt deployed last. */
    int attempt();

    AttemptPlan plan();

    /** Tasks of the attempt that have processed all their input. */
    Set<String> finishedTasks();

    JobState state();

    /** A rescale is in progress: it takes its own (halting) checkpoint. */
    boolean rescaling();

    CompletableFuture<Object> request(String worker, Protocol.Message message);

    /**
     * The output of a checkpoint of {@code attempt} that completed could not be committed: the
     * attempt must restart (which commits it again).
     */
    void commitFailed(int attempt, String message);

    /** Checkpoints of {@code attempt} keep timing out: a task is stuck and only a restart helps. */
    void stuck(int attempt, String message);
  }

  /** A checkpoint waiting for acks. */
  private static final class Pending {
    final long id;
    final int attempt;
    final String savepointName;
    final long startedAt = System.currentTimeMillis();
    final Set<String> waitingFor;
    final Map<String, TaskSnapshot> acks = new HashMap<>();
    final CompletableFuture<CheckpointMetadata> completion = new CompletableFuture<>();
    ScheduledFuture<?> timeoutTimer;
    /** Every ack is in and the metadata is being written: it can no longer be aborted. */
    boolean finalizing;
    long lastAckAt;
    /** Sources that had ended when it began, with their end offsets. */
    final Map<String, Map<String, Long>> finishedSources;
    /** Output the ended tasks staged at their end (a prefix of the job's final output). */
    final List<String> finishedOutput;

    Pending(long id, int attempt, String savepointName, Set<String> tasks,
        Map<String, Map<String, Long>> finishedSources, List<String> finishedOutput) {
      this.id = id;
      this.attempt = attempt;
      this.savepointName = savepointName;
      this.waitingFor = new HashSet<>(tasks);
      this.finishedSources = Map.copyOf(finishedSources);
      this.finishedOutput = List.copyOf(finishedOutput);
    }
  }

  private final Job job;
  private final JobDefinition definition;
  private final Coordinator coordinator;
  private final Context context;
  private final CheckpointRetention retention;
  private long nextCheckpointId = 1;
  private Pending pending;
  /** Checkpoint, savepoint and rescale requests waiting for {@link #pending}, oldest first. */
  private final Deque<Runnable> waiting = new ArrayDeque<>();
  private final Deque<JobStatus.CheckpointSummary> summaries = new ArrayDeque<>();
  private long lastCheckpointEnd;
  private ScheduledFuture<?> periodicTimer;
  private long aborted;
  private long completed;
  /** Checkpoints in a row that timed out (a completed one resets it). */
  private int timeoutsInARow;
  /** The newest completed checkpoint or savepoint (or the restore point), or null. */
  private CheckpointMetadata latest;
  /** What the tasks that acked {@link #latest} reported as their hottest blocks. */
  private List<AttemptPlan.HandedOver> handedOver = List.of();
  /**
   * The attempt whose sources were sent a halting barrier (a rescale's checkpoint), or -1. Its
   * sources emit nothing after that barrier and it is canceled next: no other checkpoint may
   * begin on it. Its barrier would race the cancel; unless every task acked first, the
   * checkpoint would stay pending (the next attempt ignores the old one's acks), holding back
   * every later checkpoint and rescale until it timed out.
   */
  private int haltedAttempt = -1;
  /** Where each finished source task of the attempt ended: checkpoints after its end say so. */
  private final Map<String, Map<String, Long>> finishedSources = new HashMap<>();
  /**
   * Output the finished tasks staged at their end and no completed checkpoint has committed
   * yet: the next checkpoint commits it (its records are all before that checkpoint's
   * barriers), else the job's end does.
   */
  private final List<String> finalCommittables = new ArrayList<>();
  /**
   * Output staged for checkpoints of this attempt that were aborted: it covers records before
   * their barriers, which no replay will bring back, so the next completed checkpoint commits
   * it.
   */
  private final List<String> carried = new ArrayList<>();
  /**
   * Completes when every commit started so far has ended. A job is finished only after that:
   * a checkpoint's commit still running would make its output appear after the job reported
   * its end.
   */
  private CompletableFuture<Void> commitsInFlight = CompletableFuture.completedFuture(null);
  /** The last completed checkpoint or savepoint whose output this coordinator has committed. */
  private CheckpointMetadata committedHere;
  /**
   * Output of completed checkpoints whose commit has not succeeded (yet): every checkpoint that
   * completes meanwhile lists it again. A commit can fail after the next checkpoint completed
   * (its retries take seconds); the restart then restores from that next one and commits only
   * what its metadata lists, so without this the first one's output, whose records the state
   * has already counted, would be lost. Commits are idempotent: listed twice, committed once.
   */
  private final Set<String> uncommitted = new LinkedHashSet<>();

  CheckpointCoordinator(Job job, JobDefinition definition, Coordinator coordinator,
      Context context, CheckpointMetadata restoreFrom) {
    this.job = job;
    this.definition = definition;
    this.coordinator = coordinator;
    this.context = context;
    this.latest = restoreFrom;
    this.retention = new CheckpointRetention(definition.name(),
        definition.checkpoints().retained(), coordinator.storage(), coordinator.registry(),
        coordinator.lease()::confirmHeld);
    if (restoreFrom != null) {
      nextCheckpointId = restoreFrom.checkpointId() + 1;
    }
  }

  /**
   * Takes over the job's checkpoints and savepoints already in the bucket ({@code points}, as
   * {@link CheckpointStorage#allRestorePoints} lists them): retention counts them, numbering
   * goes on after them.
   */
  void adoptExisting(List<CheckpointStorage.RestorePoint> points) {
    nextCheckpointId = Math.max(nextCheckpointId, retention.adoptAtStart(points, latest));
  }

  /** The newest completed checkpoint or savepoint, else the restore point, or null. */
  CheckpointMetadata latest() {
    return latest;
  }

  /**
   * Commits the output of {@code metadata} (a restore point) unless this coordinator knows it
   * committed: a restart after a commit that failed, or on a coordinator that took over, commits
   * it again (idempotent); a restart after a commit that succeeded need not wait for one.
   */
  CompletableFuture<Void> commitOutputOf(CheckpointMetadata metadata) {
    if (metadata == committedHere || metadata.committed().isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    return commit(metadata.committed()).thenRun(() -> context.runOnContext(v -> {
      committedHere = metadata;
      metadata.committed().forEach(uncommitted::remove);
    }));
  }

  /** The hottest blocks the tasks of {@link #latest} reported, for their key groups' next owners. */
  List<AttemptPlan.HandedOver> handedOver() {
    return handedOver;
  }

  List<JobStatus.CheckpointSummary> summaries() {
    return List.copyOf(summaries);
  }

  long aborted() {
    return aborted;
  }

  long completed() {
    return completed;
  }

  // ---------------------------------------------------------------------- the job's attempts

  /**
   * Attempt {@code attempt} is about to be deployed: a checkpoint of an older one can never
   * complete (its acks are ignored from now on) and would hold back every later checkpoint and
   * rescale, so it is aborted; what the older attempt's tasks did is forgotten.
   */
  void attemptStarting(int attempt) {
    if (pending != null && pending.attempt != attempt) {
      abort("attempt " + pending.attempt + " was replaced by attempt " + attempt, -1);
    }
    finishedSources.clear();
    finalCommittables.clear();
    carried.clear();
  }

  void acked(Protocol.Ack a) {
    Pending p = pending;
    if (p == null || p.id != a.checkpointId()) {
      // A late ack of an aborted checkpoint.
      carried.addAll(a.snapshot().committables());
      return;
    }
    p.acks.put(a.task(), a.snapshot());
    p.waitingFor.remove(a.task());
    p.lastAckAt = System.currentTimeMillis();
    if (p.waitingFor.isEmpty()) {
      complete(p);
    }
  }

  void declined(Protocol.Decline d) {
    carried.addAll(d.staged());
    abort("task " + d.task() + " declined checkpoint " + d.checkpointId() + ": " + d.reason(),
        d.checkpointId());
  }

  /** A task of the running attempt processed all its input. */
  void taskFinished(Protocol.TaskFinished f) {
    if (f.sourcePosition() != null) {
      finishedSources.put(f.task(), f.sourcePosition());
    }
    if (pending != null && pending.waitingFor.contains(f.task())) {
      // It ended before the checkpoint's barrier reached it: it will never ack.
      abort("task " + f.task() + " ended before checkpoint " + pending.id + " reached it",
          pending.id);
    }
    finalCommittables.addAll(f.committables());
  }

  /**
   * Completes once the checkpoint whose acks are all in has completed (it cannot be aborted
   * any more, and commits on its own), at once if there is none.
   */
  CompletableFuture<?> whenFinalized() {
    return pending != null && pending.finalizing
        ? pending.completion.handle((m, e) -> null) : CompletableFuture.completedFuture(null);
  }

  /**
   * Commits the output no checkpoint has committed (the job has ended), and completes once
   * every commit started before has ended too.
   */
  CompletableFuture<Void> commitFinalOutput() {
    finalCommittables.addAll(carried);
    carried.clear();
    return commit(finalCommittables).thenCompose(c -> commitsInFlight);
  }

  /** Commits sink output; idempotent, so output committed before may be committed again. */
  CompletableFuture<Void> commit(List<String> committables) {
    if (committables.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<Void> done = definition.graph().commit(committables);
    commitsInFlight = CompletableFuture.allOf(commitsInFlight, done.handle((v, e) -> null));
    return done;
  }

  // ------------------------------------------------------------------------------ triggering

  void schedulePeriodic() {
    stopPeriodic();
    long interval = definition.checkpoints().interval().toMillis();
    if (interval <= 0) {
      return;
    }
    // Timed from the coordinator's own thread: Vert.x timers on an event loop that tasks keep
    // busy fire late.
    periodicTimer = coordinator.timer().scheduleAtFixedRate(() -> context.runOnContext(v -> {
      long sinceLast = System.currentTimeMillis() - lastCheckpointEnd;
      // A rescale takes its own (halting) checkpoint: none in between, which would delay it.
      if (job.state() == JobState.RUNNING && pending == null && waiting.isEmpty()
          && canCheckpoint() && !job.rescaling()
          && sinceLast >= definition.checkpoints().minPause().toMillis()) {
        begin(null, false);
      }
    }), interval, interval, TimeUnit.MILLISECONDS);
  }

  void stopPeriodic() {
    if (periodicTimer != null) {
      periodicTimer.cancel(false);
      periodicTimer = null;
    }
  }

  /**
   * Takes a checkpoint, or with {@code savepointName} a savepoint (under
   * {@code savepoints/<name>}, never deleted by retention), after the ones requested before.
   */
  CompletableFuture<CheckpointMetadata> trigger(String savepointName) {
    return afterPending(() -> begin(savepointName, false));
  }

  /**
   * Takes a rescale's checkpoint, after the ones requested before: its barrier halts the
   * sources, so the tasks hold exactly its state once it completes; no other checkpoint begins
   * on the attempt after it.
   *
   * @throws RescaleConflictException (in the future) if no checkpoint can be taken by then
   */
  CompletableFuture<CheckpointMetadata> halting() {
    return afterPending(() -> {
      if (!canCheckpoint()) {
        throw new RescaleConflictException(whyNoCheckpoint() + "; nothing changed");
      }
      return begin(null, true);
    });
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

  /**
   * Whether a checkpoint can be taken: the job runs, and every task that has not ended still
   * has a running source upstream, whose barrier will reach it. Tasks that ended are recorded
   * as ended, as Flink does since FLIP-147: a source at its end offset, any other task with no
   * state (all its input has ended: restored, it ends again at once, with nothing to emit); the
   * output they staged at their end is committed with the checkpoint.
   */
  boolean canCheckpoint() {
    if (job.state() != JobState.RUNNING) {
      return false;
    }
    AttemptPlan plan = job.plan();
    Set<String> finished = job.finishedTasks();
    Set<Integer> runningSources = new HashSet<>();
    for (String task : plan.sourceTasks()) {
      if (!finished.contains(task)) {
        runningSources.add(plan.spec(task).vertex());
      }
    }
    if (runningSources.isEmpty()) {
      return false;
    }
    for (Map.Entry<String, TaskSpec> e : plan.specs().entrySet()) {
      if (!finished.contains(e.getKey()) && plan.topology()
          .sourcesUpstreamOf(e.getValue().vertex()).stream()
          .noneMatch(runningSources::contains)) {
        return false;
      }
    }
    return true;
  }

  /** Why {@link #canCheckpoint} says no, for messages. */
  String whyNoCheckpoint() {
    Set<String> finished = job.finishedTasks();
    return "job " + job.name() + " is " + job.state() + (finished.isEmpty() ? ""
        : " and finishing (tasks " + finished + " of attempt " + job.attempt() + " ended)");
  }

  private CompletableFuture<CheckpointMetadata> begin(String savepointName, boolean halt) {
    if (!canCheckpoint()) {
      return CompletableFuture.failedFuture(new IllegalStateException(whyNoCheckpoint()
          + "; it cannot checkpoint now"));
    }
    int attempt = job.attempt();
    if (attempt == haltedAttempt) {
      return CompletableFuture.failedFuture(new IllegalStateException("job " + job.name()
          + " is being rescaled (the sources of attempt " + attempt + " have halted); it "
          + "cannot checkpoint now"));
    }
    if (halt) {
      haltedAttempt = attempt;
    }
    AttemptPlan plan = job.plan();
    Set<String> running = new HashSet<>(plan.placement().keySet());
    running.removeAll(job.finishedTasks());
    Pending p = new Pending(nextCheckpointId++, attempt, savepointName, running,
        finishedSources, finalCommittables);
    pending = p;
    Map<String, List<String>> sourcesByWorker = new LinkedHashMap<>();
    for (String task : plan.sourceTasks()) {
      if (!job.finishedTasks().contains(task)) {
        sourcesByWorker.computeIfAbsent(plan.workerOf(task), w -> new ArrayList<>()).add(task);
      }
    }
    sourcesByWorker.forEach((worker, tasks) ->
        job.request(worker, new Protocol.Trigger(job.name(), attempt, p.id, halt, tasks)));
    p.timeoutTimer = coordinator.timer().schedule(() -> context.runOnContext(v -> timedOut(p)),
        definition.checkpoints().timeout().toMillis(), TimeUnit.MILLISECONDS);
    return p.completion;
  }

  private void timedOut(Pending p) {
    if (pending != p || p.finalizing) {
      return;
    }
    List<String> silent = p.waitingFor.stream().sorted().toList();
    abort("checkpoint " + p.id + " timed out after " + definition.checkpoints().timeout()
        + " waiting for tasks " + silent, p.id);
    timeoutsInARow++;
    int tolerable = definition.checkpoints().tolerableTimeouts();
    if (timeoutsInARow > tolerable) {
      timeoutsInARow = 0;
      job.stuck(p.attempt, (tolerable + 1) + " checkpoints in a row timed out; the last one "
          + "waited " + definition.checkpoints().timeout() + " for tasks " + silent);
    }
  }

  // ------------------------------------------------------------------------------ completion

  private void complete(Pending p) {
    p.timeoutTimer.cancel(false);
    p.finalizing = true;
    List<String> carriedHere = List.copyOf(carried);
    carried.clear();
    AttemptPlan plan = job.plan();
    CheckpointMetadata metadata = metadataOf(p, plan, carriedHere);
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
            aborted++;
            LOG.warn("Checkpoint {} of job {} could not be completed; the previous one stays "
                + "valid: {}", p.id, job.name(), Failures.message(error));
            p.completion.completeExceptionally(error);
            return;
          }
          // Its metadata is written: the checkpoint has happened, and every restart restores
          // from it (and commits its output again, which is idempotent).
          retention.completed(metadata, key);
          timeoutsInARow = 0;
          latest = metadata;
          handedOver = handedOver(p, plan);
          if (p.attempt == job.attempt()) {
            // Committed with this checkpoint from now on: not again at the job's end.
            finalCommittables.subList(0, p.finishedOutput.size()).clear();
          }
          completed++;
          LOG.info("{} {} of job {} completed in {} ms: {}", metadata.kind(), p.id, job.name(),
              lastCheckpointEnd - p.startedAt, key);
          long uploaded = 0;
          long align = 0;
          long drain = 0;
          long snapshot = 0;
          for (TaskSnapshot s : p.acks.values()) {
            uploaded += s.uploadedBytes();
            align = Math.max(align, s.phases().alignMillis());
            drain = Math.max(drain, s.phases().drainMillis());
            snapshot = Math.max(snapshot, s.phases().snapshotMillis());
          }
          summaries.addLast(new JobStatus.CheckpointSummary(p.id, metadata.kind(), key,
              lastCheckpointEnd - p.startedAt, lastCheckpointEnd, uploaded, align, drain,
              snapshot, p.acks.isEmpty() ? 0 : lastCheckpointEnd - p.lastAckAt));
          while (summaries.size() > SUMMARIES) {
            summaries.removeFirst();
          }
          uncommitted.addAll(metadata.committed());
          commit(metadata.committed()).whenComplete((c, commitError) -> context.runOnContext(
              x -> {
                if (commitError == null) {
                  committedHere = metadata;
                  metadata.committed().forEach(uncommitted::remove);
                  p.completion.complete(metadata);
                  return;
                }
                String message = "committing the output of " + metadata.kind() + " " + p.id
                    + " failed: " + Failures.message(commitError);
                p.completion.completeExceptionally(new IllegalStateException(message
                    + "; it completed, and the restart commits its output again", commitError));
                job.commitFailed(p.attempt, message);
              }));
        }));
  }

  private CheckpointMetadata metadataOf(Pending p, AttemptPlan plan, List<String> carriedHere) {
    JobTopology topology = plan.topology();
    List<CheckpointMetadata.SourceSplit> sources = new ArrayList<>();
    Map<Integer, List<CheckpointMetadata.TaskState>> byVertex = new HashMap<>();
    Set<String> committed = new LinkedHashSet<>(uncommitted);
    committed.addAll(carriedHere);
    committed.addAll(p.finishedOutput);
    p.finishedSources.forEach((task, position) -> {
      TaskSpec spec = plan.spec(task);
      sources.add(new CheckpointMetadata.SourceSplit(topology.sourceHead(spec.vertex()).name(),
          spec.subtask(), spec.parallelism(), position));
    });
    for (Map.Entry<String, TaskSnapshot> e : p.acks.entrySet()) {
      TaskSpec spec = plan.spec(e.getKey());
      TaskSnapshot s = e.getValue();
      committed.addAll(s.committables());
      Transformation.SourceNode source = topology.sourceHead(spec.vertex());
      if (source != null) {
        sources.add(new CheckpointMetadata.SourceSplit(source.name(), spec.subtask(),
            spec.parallelism(), s.sourcePosition()));
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
    return new CheckpointMetadata(job.name(), p.id,
        p.savepointName != null ? CheckpointMetadata.SAVEPOINT : CheckpointMetadata.CHECKPOINT,
        System.currentTimeMillis(), definition.runtime().backend(), topology.maxParallelism(),
        sources, operators, List.copyOf(committed));
  }

  /** The hottest blocks the keyed tasks reported with their acks of {@code p}. */
  private static List<AttemptPlan.HandedOver> handedOver(Pending p, AttemptPlan plan) {
    List<AttemptPlan.HandedOver> out = new ArrayList<>();
    p.acks.forEach((task, s) -> {
      TaskSpec spec = plan.spec(task);
      Transformation.KeyedProcessNode keyed = plan.topology().keyedHead(spec.vertex());
      if (keyed != null && !s.hotBlocks().isEmpty()) {
        out.add(new AttemptPlan.HandedOver(keyed.uid(), spec.keyGroups(), s.hotBlocks()));
      }
    });
    return List.copyOf(out);
  }

  /**
   * Aborts the checkpoint in progress (only {@code checkpointId}'s unless it is -1), unless
   * its acks are all in; the previous checkpoint stays the one to restore from.
   */
  void abort(String reason, long checkpointId) {
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
    aborted++;
    LOG.warn("Checkpoint {} of job {} aborted; the previous one stays valid: {}", p.id,
        job.name(), reason);
    p.completion.completeExceptionally(new IllegalStateException("checkpoint " + p.id
        + " aborted: " + reason));
  }
}
