package io.stratus.runtime.execution;

import io.stratus.runtime.serde.Serde;
import io.stratus.runtime.state.HotBlocks;
import io.stratus.runtime.state.StateHandle;
import io.vertx.core.Context;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A task that reads an inbox, on its own Vert.x context: it decodes each record with its
 * channel's serde and hands it to its {@link HeadOperator} (a keyed operator, or a stateless
 * chain) while the head has capacity, its state accepts writes and downstream has room. A
 * watermark or the end of input is an epoch boundary: the head completes every record before
 * it and fires what became due, then the watermark moves on.
 *
 * <p>Checkpoint barriers are aligned over every channel: after the barrier of one channel, that
 * channel's later elements are held back until every open channel has delivered the barrier;
 * then, once every record before the barrier has completed, the head snapshots (sealing its
 * state as of that moment), the sinks on the way stage their output, the barrier moves on and
 * the held elements are processed.
 */
final class StreamTask implements DeployedTask {

  /** A pump gives up its event loop thread after this long (checked every few elements). */
  private static final long YIELD_AFTER_NANOS = 2_000_000;
  private static final int YIELD_CHECK_EVERY = 32;

  private final TaskSpec spec;
  private final TaskEvents events;
  private final String name;
  private final Context context;
  private final TaskInbox inbox;
  private final int inputs;
  private final Serde<?>[] valueSerdes;
  private final Serde<?>[] keySerdes;
  private final HeadOperator head;
  private final TaskOutput output;
  private volatile boolean stopped;
  private final long[] inputWatermarks;
  private final CompletableFuture<Void> done = new CompletableFuture<>();
  private long uploadedAtLastSnapshot;
  /**
   * Completes once every snapshot started so far has been reported. The task reports itself
   * finished only after that: the coordinator must see a checkpoint's ack (and the output it
   * staged) before the task's end, or that output would be neither committed nor replayed.
   */
  private CompletableFuture<Void> snapshotsReported = CompletableFuture.completedFuture(null);
  private int endedInputs;
  private long watermark = Long.MIN_VALUE;
  private boolean paused;
  /** Set while a yielded pump waits for its next turn on the event loop. */
  private boolean yielded;
  private volatile long records;
  private long aligning = -1;
  /** When the first barrier of the checkpoint being aligned arrived (nanoTime). */
  private long alignmentBegan;
  private final boolean[] barrierSeen;
  private final boolean[] inputEnded;
  /** Inputs that declared themselves idle: left out of the watermark until active again. */
  private final boolean[] inputIdle;
  /** Whether this task told downstream it is idle (all its open inputs are). */
  private boolean idle;
  private ArrayDeque<StreamElement> held = new ArrayDeque<>();
  private ArrayDeque<StreamElement> replay = new ArrayDeque<>();
  /**
   * Elements at the head of {@link #replay} that skip the hold check: released by a barrier
   * that overtook an alignment, they all came before that barrier on their channel.
   */
  private int passThrough;

  StreamTask(TaskSpec spec, String name, Context context, TaskInbox inbox, InputSerdes serdes,
      HeadOperator head, TaskOutput output, TaskEvents events) {
    this.spec = spec;
    this.events = events;
    this.name = name;
    this.context = context;
    this.inbox = inbox;
    this.valueSerdes = serdes.values();
    this.keySerdes = serdes.keys();
    this.inputs = valueSerdes.length;
    this.head = head;
    this.output = output;
    this.inputWatermarks = new long[inputs];
    Arrays.fill(inputWatermarks, Long.MIN_VALUE);
    this.barrierSeen = new boolean[inputs];
    this.inputEnded = new boolean[inputs];
    this.inputIdle = new boolean[inputs];
  }

  @Override
  public TaskSpec spec() {
    return spec;
  }

  @Override
  public long records() {
    return records;
  }

  @Override
  public int maxObservedInFlight() {
    return head.maxObservedInFlight();
  }

  @Override
  public long stateBytes() {
    return head.stateBytes();
  }

  @Override
  public void releaseState() {
    head.releaseState();
  }

  @Override
  public void triggerCheckpoint(long checkpointId, boolean halt) {
    // Tasks with inputs take checkpoints when barriers arrive through them.
  }

  @Override
  public CompletableFuture<Void> cancel() {
    stopped = true;
    CompletableFuture<Void> quiet = new CompletableFuture<>();
    context.runOnContext(v -> {
      head.cancel();
      done.complete(null);
      quiet.complete(null);
    });
    return quiet;
  }

  /** Opens the head (and the operators chained after it), then starts taking input. */
  @Override
  public CompletableFuture<Void> start() {
    context.runOnContext(v -> head.open(spec.subtask(), spec.parallelism(), this::fail)
        .whenComplete((x, e) -> context.runOnContext(y -> {
          if (e != null) {
            fail(null, null, e);
            return;
          }
          inbox.onAvailable(() -> context.runOnContext(z -> pump()));
          pump();
        })));
    return done;
  }

  private void pump() {
    if (inbox.failure() != null) {
      // Checked before the pause too: a task waiting for downstream space would not see it.
      fail(null, null, inbox.failure());
      return;
    }
    long began = System.nanoTime();
    int pumped = 0;
    while (!paused) {
      if (stopped) {
        done.complete(null);
        return;
      }
      // An event loop thread runs other tasks and the worker's control messages too (a deploy,
      // a barrier, a cancel): a busy input must not hold it for seconds.
      if (++pumped % YIELD_CHECK_EVERY == 0 && System.nanoTime() - began > YIELD_AFTER_NANOS) {
        yieldTurn();
        return;
      }
      if (inbox.failure() != null) {
        fail(null, null, inbox.failure());
        return;
      }
      if (!head.hasCapacity()) {
        wait(head.whenCapacity());
        return;
      }
      if (!output.hasSpace()) {
        paused = true;
        output.whenSpace(() -> context.runOnContext(v -> {
          paused = false;
          pump();
        }));
        return;
      }
      CompletableFuture<Void> writable = head.whenWritable();
      if (!writable.isDone()) {
        wait(writable);
        return;
      }
      boolean replayed = !replay.isEmpty();
      StreamElement element = replayed ? replay.poll() : inbox.poll();
      if (element == null) {
        inbox.consumerIdle();
        return;
      }
      boolean before = replayed && passThrough > 0;
      if (before) {
        passThrough--;
      }
      if (!before && aligning >= 0 && barrierSeen[element.input()]
          && !(element instanceof StreamElement.Barrier)) {
        held.add(element);
        continue;
      }
      if (element instanceof StreamElement.Record r) {
        if (!process(r)) {
          return;
        }
      } else if (element instanceof StreamElement.Watermark w) {
        inputWatermarks[w.input()] = Math.max(inputWatermarks[w.input()], w.timestamp());
        advanceTo(minWatermark());
      } else if (element instanceof StreamElement.WatermarkStatus st) {
        inputIdle[st.input()] = st.idle();
        updateIdleness();
        advanceTo(minWatermark());
      } else if (element instanceof StreamElement.Barrier b) {
        onBarrier(b);
      } else if (element instanceof StreamElement.End e) {
        endedInputs++;
        inputEnded[e.input()] = true;
        inputWatermarks[e.input()] = Long.MAX_VALUE;
        updateIdleness();
        if (endedInputs == inputs) {
          finish();
          return;
        }
        if (aligning >= 0 && aligned()) {
          completeAlignment();
          return;
        }
        advanceTo(minWatermark());
      }
    }
  }

  /** Decodes a record and hands it to the head; false if that failed the task. */
  private boolean process(StreamElement.Record r) {
    records++;
    Object value;
    Object key = null;
    try {
      value = valueSerdes[r.input()].fromBytes(r.value());
      if (r.keyBytes() != null) {
        key = keySerdes[r.input()].fromBytes(r.keyBytes());
      }
    } catch (RuntimeException e) {
      fail(null, null, new IllegalStateException("a record on channel " + r.input()
          + " cannot be decoded with its edge's serde " + valueSerdes[r.input()], e));
      return false;
    }
    try {
      head.process(value, r.timestamp(), key, r.keyBytes(), r.keyGroup());
      return true;
    } catch (ChainHead.ChainFailure e) {
      fail(value, key, e.getCause());
    } catch (RuntimeException | Error e) {
      // An Error too: escaping to the event loop, it would leave the task stalled, unreported.
      fail(value, key, e);
    }
    return false;
  }

  private void yieldTurn() {
    if (!yielded) {
      yielded = true;
      context.runOnContext(v -> {
        yielded = false;
        pump();
      });
    }
  }

  private void wait(CompletableFuture<Void> condition) {
    paused = true;
    condition.whenComplete((v, e) -> context.runOnContext(x -> {
      paused = false;
      pump();
    }));
  }

  private void onBarrier(StreamElement.Barrier b) {
    if (b.checkpointId() < aligning) {
      return;
    }
    if (aligning >= 0 && b.checkpointId() > aligning) {
      events.snapshotFailed(spec, aligning, new IllegalStateException("checkpoint " + aligning
          + " was overtaken by checkpoint " + b.checkpointId() + " in " + name), List.of());
      releaseHeld();
      passThrough = replay.size();
    }
    if (aligning != b.checkpointId()) {
      alignmentBegan = System.nanoTime();
    }
    aligning = b.checkpointId();
    barrierSeen[b.input()] = true;
    if (aligned()) {
      completeAlignment();
    }
  }

  private boolean aligned() {
    for (int i = 0; i < inputs; i++) {
      if (!barrierSeen[i] && !inputEnded[i]) {
        return false;
      }
    }
    return true;
  }

  /** Every input delivered the barrier: snapshot once the records before it have completed. */
  private void completeAlignment() {
    long checkpointId = aligning;
    long began = alignmentBegan;
    long aligned = System.nanoTime();
    paused = true;
    whenDrainedHere(() -> {
      long drained = System.nanoTime();
      CompletableFuture<StateHandle> handle = head.snapshot();
      CompletableFuture<List<String>> staged = output.barrier(checkpointId);
      CompletableFuture<Void> reported = new CompletableFuture<>();
      snapshotsReported = CompletableFuture.allOf(snapshotsReported, reported);
      CompletableFuture.allOf(handle.exceptionally(ex -> null), staged.exceptionally(ex -> null))
          // Ranking the cache's blocks is no work for the task's event loop.
          .thenCompose(v -> handle.isCompletedExceptionally()
              ? CompletableFuture.completedFuture(null)
              : context.executeBlocking(head::hotBlocks, false).toCompletionStage())
          // Without its hottest blocks the ack still goes out: the handover is an optimization.
          .handle((hot, e) -> e != null ? HotBlocks.NONE : hot)
          .thenAccept(hot -> context.runOnContext(y -> {
            if (staged.isCompletedExceptionally()) {
              // The staged output left the writer's buffer: only a replay can bring it back.
              fail(null, null, new IllegalStateException("staging output for checkpoint "
                  + checkpointId + " failed", causeOf(staged)));
            } else if (handle.isCompletedExceptionally()) {
              events.snapshotFailed(spec, checkpointId, causeOf(handle), staged.join());
            } else {
              long uploaded = head.uploadedBytes();
              TaskSnapshot.Phases phases = new TaskSnapshot.Phases(millis(aligned - began),
                  millis(drained - aligned), millis(System.nanoTime() - drained));
              events.snapshotTaken(spec, checkpointId, new TaskSnapshot(null, handle.join(),
                  staged.join(), uploaded - uploadedAtLastSnapshot, hot, phases));
              uploadedAtLastSnapshot = uploaded;
            }
            reported.complete(null);
          }));
      releaseHeld();
      paused = false;
      // An input that ended may have completed the alignment: its watermark counts now.
      advanceTo(minWatermark());
      pump();
    });
  }

  private static long millis(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  /**
   * Runs {@code then} on the task's context once nothing is in flight there: checked again on
   * the context, since a processing-time timer may have started records after the head said
   * it was drained.
   */
  private void whenDrainedHere(Runnable then) {
    head.whenDrained().whenComplete((v, e) -> context.runOnContext(x -> {
      if (stopped) {
        return;
      }
      if (!head.whenDrained().isDone()) {
        whenDrainedHere(then);
        return;
      }
      then.run();
    }));
  }

  /** Ends the alignment: the held elements go first, in arrival order. */
  private void releaseHeld() {
    aligning = -1;
    passThrough = 0;
    Arrays.fill(barrierSeen, false);
    held.addAll(replay);
    replay = held;
    held = new ArrayDeque<>();
  }

  /**
   * The minimum watermark over the inputs that are neither ended nor idle. While every open
   * input is idle, the largest of their watermarks (as Flink): each has promised that much, and
   * nothing newer is coming to hold it back.
   */
  private long minWatermark() {
    long min = Long.MAX_VALUE;
    long maxIdle = Long.MIN_VALUE;
    boolean active = false;
    for (int i = 0; i < inputs; i++) {
      if (inputEnded[i]) {
        continue;
      }
      if (inputIdle[i]) {
        maxIdle = Math.max(maxIdle, inputWatermarks[i]);
      } else {
        active = true;
        min = Math.min(min, inputWatermarks[i]);
      }
    }
    return active || endedInputs == inputs ? min : maxIdle;
  }

  /** Tells downstream when every open input has gone idle, and when one is active again. */
  private void updateIdleness() {
    boolean allIdle = endedInputs < inputs;
    for (int i = 0; i < inputs; i++) {
      allIdle &= inputEnded[i] || inputIdle[i];
    }
    if (allIdle != idle) {
      idle = allIdle;
      output.watermarkStatus(idle);
    }
  }

  /** An epoch boundary in the input: pause, advance the head, pass the watermark on. */
  private void advanceTo(long target) {
    if (target <= watermark) {
      return;
    }
    paused = true;
    head.advance(target).whenComplete((v, e) -> context.runOnContext(x -> {
      watermark = target;
      output.watermark(target);
      paused = false;
      pump();
    }));
  }

  private void finish() {
    paused = true;
    head.advance(Long.MAX_VALUE).whenComplete((v, e) -> context.runOnContext(x -> {
      if (stopped) {
        return;
      }
      if (watermark < Long.MAX_VALUE) {
        watermark = Long.MAX_VALUE;
        output.watermark(Long.MAX_VALUE);
      }
      close();
    }));
  }

  private void close() {
    try {
      head.close();
    } catch (Exception e) {
      fail(null, null, e);
      return;
    }
    snapshotsReported.thenCompose(v -> output.stageFinal())
        .whenComplete((staged, error) -> context.runOnContext(v -> {
      if (stopped) {
        return;
      }
      if (error != null) {
        fail(null, null, error);
        return;
      }
      try {
        output.end();
      } catch (Exception e) {
        fail(null, null, e);
        return;
      }
      events.taskFinished(spec, null, staged);
      done.complete(null);
    }));
  }

  private static Throwable causeOf(CompletableFuture<?> failed) {
    try {
      failed.join();
      throw new IllegalStateException("not failed");
    } catch (java.util.concurrent.CompletionException e) {
      return e.getCause() != null ? e.getCause() : e;
    } catch (java.util.concurrent.CancellationException e) {
      return e;
    }
  }

  private void fail(Object record, Object key, Throwable error) {
    if (stopped) {
      return;
    }
    stopped = true;
    Throwable cause = error instanceof IllegalStateException && error.getCause() != null
        && error.getMessage() != null && error.getMessage().equals(error.getCause().toString())
        ? error.getCause() : error;
    events.taskFailed(spec, new TaskFailureException(name, record, key, cause));
    done.complete(null);
  }
}
