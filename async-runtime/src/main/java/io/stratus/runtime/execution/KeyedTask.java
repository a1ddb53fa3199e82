package io.stratus.runtime.execution;

import io.stratus.runtime.functions.Collector;
import io.stratus.runtime.functions.DeadLetter;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.functions.OutputTag;
import io.stratus.runtime.serde.Serde;
import io.stratus.runtime.sink.DeadLetterSink;
import io.stratus.runtime.sink.SinkWriter;
import io.stratus.runtime.state.KeyedStateBackend;
import io.stratus.runtime.state.KeyedStateStore;
import io.stratus.runtime.state.RecordContext;
import io.stratus.runtime.state.StateDescriptor;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * One parallel task of a keyed operator, on its own Vert.x context. It takes elements from its
 * inbox while the async execution controller has capacity, the backend accepts writes and
 * downstream has room. Records go through the controller (overlapping across keys, ordered per
 * key); a watermark or the end of input is an epoch boundary: it waits until every record
 * before it has completed, then fires the due timers (through the controller too) and passes
 * the watermark on.
 *
 * <p>Checkpoint barriers are aligned: after the barrier of one input, that input's later
 * elements are held back until every input has delivered the barrier; then, once every record
 * before the barrier has completed, the backend snapshots (sealing its state as of that
 * moment), the barrier moves on and the held elements are processed.
 */
final class KeyedTask implements DeployedTask {

  private final TaskSpec spec;
  private final TaskEvents events;
  private final String name;
  private final int index;
  private final int parallelism;
  private final Vertx vertx;
  private final Context context;
  private final TaskInbox inbox;
  private final int inputs;
  private final KeyedProcessFunction<Object, Object, Object> function;
  private final Serde<Object> keySerde;
  private final KeyedStateBackend backend;
  private final TaskOutput output;
  /** Writers of the side outputs the job takes, by tag id (staged and closed by output). */
  private final Map<String, SinkWriter<?>> sideOutputs;
  /** Where records whose code throws go instead of failing the task; null: fail. */
  private final SinkWriter<DeadLetter<Object>> deadLetters;
  /** Runs of a record whose code throws before it is dead-lettered. */
  private final int deadLetterAttempts;
  private volatile boolean stopped;
  private final AsyncExecutionController controller;
  private final KeyedStateStore states;
  private final KeyedTimers timers;
  private final long[] inputWatermarks;
  private final CompletableFuture<Void> done = new CompletableFuture<>();
  private final Collector<Object> collector;
  private final FunctionContext functionContext = new FunctionContext();
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
  private long processingTimer = -1;
  private long processingTimerAt = Long.MAX_VALUE;
  private volatile long records;
  private long aligning = -1;
  private final boolean[] barrierSeen;
  private final boolean[] inputEnded;
  /** Inputs that declared themselves idle: left out of the watermark until active again. */
  private final boolean[] inputIdle;
  /** Whether this task told downstream it is idle (all its open inputs are). */
  private boolean idle;
  private ArrayDeque<StreamElement> held = new ArrayDeque<>();
  private ArrayDeque<StreamElement> replay = new ArrayDeque<>();

  @SuppressWarnings("unchecked")
  KeyedTask(TaskSpec spec, String name, Vertx vertx, TaskInbox inbox, int inputs,
      KeyedProcessFunction<?, ?, ?> function, Serde<?> keySerde, KeyedStateBackend backend,
      TaskOutput output, Map<String, SinkWriter<?>> sideOutputs, int deadLetterAttempts,
      int maxInFlight, TaskEvents events) {
    int index = spec.subtask();
    int parallelism = spec.parallelism();
    this.spec = spec;
    this.events = events;
    this.name = name + "[" + index + "/" + parallelism + "]";
    this.index = index;
    this.parallelism = parallelism;
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.inbox = inbox;
    this.inputs = inputs;
    this.function = (KeyedProcessFunction<Object, Object, Object>) function;
    this.keySerde = (Serde<Object>) keySerde;
    this.backend = backend;
    this.output = output;
    this.sideOutputs = sideOutputs;
    SinkWriter<?> deadLetterWriter = sideOutputs.get(DeadLetterSink.TAG_ID);
    this.deadLetters = (SinkWriter<DeadLetter<Object>>) deadLetterWriter;
    this.deadLetterAttempts = deadLetterAttempts;
    this.controller = new AsyncExecutionController(r -> context.runOnContext(v -> r.run()),
        () -> Vertx.currentContext() == context, maxInFlight, this::onRecordFailure);
    controller.onFirstCompletion(() -> events.firstRecordProcessed(spec));
    this.states = new KeyedStateStore(backend, controller, System::currentTimeMillis);
    this.timers = new KeyedTimers(backend);
    this.inputWatermarks = new long[inputs];
    Arrays.fill(inputWatermarks, Long.MIN_VALUE);
    this.barrierSeen = new boolean[inputs];
    this.inputEnded = new boolean[inputs];
    this.inputIdle = new boolean[inputs];
    this.collector = record -> {
      RecordContext ctx = controller.currentContext();
      try {
        output.emit(record, ctx == null ? Long.MIN_VALUE : ctx.timestamp());
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    };
  }

  String name() {
    return name;
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
    return controller.maxObservedInFlight();
  }

  @Override
  public long stateBytes() {
    return backend.approximateSizeBytes();
  }

  @Override
  public void releaseState() {
    backend.close();
  }

  @Override
  public void triggerCheckpoint(long checkpointId, boolean halt) {
    // Keyed tasks take checkpoints when barriers arrive through their inputs.
  }

  @Override
  public CompletableFuture<Void> cancel() {
    stopped = true;
    CompletableFuture<Void> quiet = new CompletableFuture<>();
    context.runOnContext(v -> {
      controller.abandon();
      if (processingTimer >= 0) {
        vertx.cancelTimer(processingTimer);
      }
      done.complete(null);
      quiet.complete(null);
    });
    return quiet;
  }

  AsyncExecutionController controller() {
    return controller;
  }

  KeyedStateBackend backend() {
    return backend;
  }

  /** Opens the function (after timers are loaded) and starts taking input. */
  @Override
  public CompletableFuture<Void> start() {
    timers.restore().whenComplete((v, e) -> context.runOnContext(x -> {
      if (e != null) {
        fail(null, e);
        return;
      }
      try {
        function.open(new KeyedProcessFunction.OpenContext() {
          @Override
          public <S> S state(StateDescriptor<S> descriptor) {
            return states.state(descriptor);
          }

          @Override
          public int subtaskIndex() {
            return index;
          }

          @Override
          public int parallelism() {
            return parallelism;
          }
        });
      } catch (Exception ex) {
        fail(null, ex);
        return;
      }
      inbox.onAvailable(() -> context.runOnContext(y -> pump()));
      armProcessingTimer();
      pump();
    }));
    return done;
  }

  private void schedulePump() {
    context.runOnContext(v -> pump());
  }

  private void pump() {
    while (!paused) {
      if (stopped) {
        done.complete(null);
        return;
      }
      if (!controller.hasCapacity()) {
        wait(controller.whenCapacity());
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
      CompletableFuture<Void> writable = backend.whenWritable();
      if (!writable.isDone()) {
        wait(writable);
        return;
      }
      StreamElement element = replay.isEmpty() ? inbox.poll() : replay.poll();
      if (element == null) {
        inbox.consumerIdle();
        return;
      }
      if (aligning >= 0 && barrierSeen[element.input()]
          && !(element instanceof StreamElement.Barrier)) {
        held.add(element);
        continue;
      }
      if (element instanceof StreamElement.Record r) {
        process(r);
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
    paused = true;
    controller.whenDrained().whenComplete((v, e) -> context.runOnContext(x -> {
      if (stopped) {
        return;
      }
      CompletableFuture<io.stratus.runtime.state.StateHandle> state;
      try {
        state = backend.snapshot();
      } catch (RuntimeException ex) {
        state = CompletableFuture.failedFuture(ex);
      }
      CompletableFuture<List<String>> staged = output.barrier(checkpointId);
      CompletableFuture<io.stratus.runtime.state.StateHandle> handle = state;
      CompletableFuture<Void> reported = new CompletableFuture<>();
      snapshotsReported = CompletableFuture.allOf(snapshotsReported, reported);
      CompletableFuture.allOf(handle.exceptionally(ex -> null), staged.exceptionally(ex -> null))
          .thenRun(() -> context.runOnContext(y -> {
            if (staged.isCompletedExceptionally()) {
              // The staged output left the writer's buffer: only a replay can bring it back.
              fail(null, new IllegalStateException("staging output for checkpoint "
                  + checkpointId + " failed", causeOf(staged)));
            } else if (handle.isCompletedExceptionally()) {
              events.snapshotFailed(spec, checkpointId, causeOf(handle), staged.join());
            } else {
              long uploaded = backend.uploadedBytes();
              events.snapshotTaken(spec, checkpointId, new TaskSnapshot(null, handle.join(),
                  staged.join(), uploaded - uploadedAtLastSnapshot));
              uploadedAtLastSnapshot = uploaded;
            }
            reported.complete(null);
          }));
      releaseHeld();
      paused = false;
      pump();
    }));
  }

  /** Ends the alignment: the held elements go first, in arrival order. */
  private void releaseHeld() {
    aligning = -1;
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

  private void process(StreamElement.Record r) {
    records++;
    Object value = r.value();
    RecordContext ctx = new RecordContext(value, r.key(), r.keyBytes(), r.keyGroup(),
        r.timestamp(), () -> {
          for (int attempt = 1; ; attempt++) {
            try {
              function.processElement(value, functionContext, collector);
              return;
            } catch (Exception e) {
              if (deadLetters == null) {
                throw new IllegalStateException(e);
              }
              if (attempt >= deadLetterAttempts) {
                throw new FailedAttempts(e, attempt);
              }
            }
          }
        });
    controller.submit(ctx);
  }

  /** A record's code threw on each of {@code attempts} runs. */
  private static final class FailedAttempts extends RuntimeException {
    private final int attempts;

    FailedAttempts(Exception cause, int attempts) {
      super(cause);
      this.attempts = attempts;
    }
  }

  /** A timer being fired (the record of its context, named in failure messages). */
  private record TimerFiring(long timestamp) {
    @Override
    public String toString() {
      return "timer@" + timestamp;
    }
  }

  /**
   * Dead-letters a record whose own code failed, if the job asked for it; anything else
   * (timers, state backend failures, no dead-letter sink) fails the task.
   */
  private boolean onRecordFailure(RecordContext ctx, Throwable error, boolean inUserCode) {
    if (deadLetters == null || !inUserCode || ctx == null
        || ctx.record() instanceof TimerFiring) {
      fail(ctx, error);
      return false;
    }
    Throwable cause = error instanceof FailedAttempts f ? f.getCause() : error;
    int attempts = error instanceof FailedAttempts f ? f.attempts : 1;
    try {
      deadLetters.write(new DeadLetter<>(ctx.record(), String.valueOf(ctx.key()),
          ctx.timestamp(), cause.toString(), attempts));
    } catch (Exception e) {
      e.addSuppressed(cause);
      fail(ctx, new IllegalStateException("writing a dead letter failed", e));
      return false;
    }
    return true;
  }

  /** An epoch boundary in the input: pause, advance, then take input again. */
  private void advanceTo(long target) {
    if (target <= watermark) {
      return;
    }
    paused = true;
    advance(target).whenComplete((v, e) -> context.runOnContext(x -> {
      paused = false;
      pump();
    }));
  }

  /**
   * Waits until every record before the boundary has completed, fires the event-time timers due
   * at {@code target} (and those they register that are due too), then forwards the watermark.
   */
  private CompletableFuture<Void> advance(long target) {
    CompletableFuture<Void> finished = new CompletableFuture<>();
    controller.whenDrained().whenComplete((v, e) -> context.runOnContext(x -> {
      watermark = target;
      List<KeyedTimers.Timer> due = timers.dueEventTime(target);
      if (due.isEmpty()) {
        output.watermark(target);
        finished.complete(null);
        return;
      }
      fireTimers(due.iterator()).whenComplete((v1, e1) ->
          advance(target).whenComplete((v2, e2) -> finished.complete(null)));
    }));
    return finished;
  }

  /**
   * Fires timers in order as the in-flight limit allows, as the input submits records: a burst
   * of due timers must not put every one of them in flight at once.
   */
  private CompletableFuture<Void> fireTimers(Iterator<KeyedTimers.Timer> due) {
    CompletableFuture<Void> fired = new CompletableFuture<>();
    fireWhileCapacity(due, fired);
    return fired;
  }

  private void fireWhileCapacity(Iterator<KeyedTimers.Timer> due, CompletableFuture<Void> fired) {
    while (due.hasNext()) {
      if (!controller.hasCapacity()) {
        controller.whenCapacity().whenComplete((v, e) -> context.runOnContext(x ->
            fireWhileCapacity(due, fired)));
        return;
      }
      fireTimer(due.next());
    }
    fired.complete(null);
  }

  private void fireTimer(KeyedTimers.Timer t) {
    Object key = keySerde.fromBytes(t.keyBytes());
    RecordContext ctx = new RecordContext(new TimerFiring(t.timestamp()), key, t.keyBytes(),
        t.keyGroup(), t.timestamp(), () -> {
          try {
            function.onTimer(t.timestamp(), functionContext, collector);
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
    controller.submit(ctx);
  }

  private void armProcessingTimer() {
    long next = timers.nextProcessingTime();
    if (next == Long.MAX_VALUE || next >= processingTimerAt) {
      return;
    }
    if (processingTimer >= 0) {
      vertx.cancelTimer(processingTimer);
    }
    processingTimerAt = next;
    long delay = Math.max(1, next - System.currentTimeMillis());
    processingTimer = vertx.setTimer(delay, id -> context.runOnContext(v -> {
      processingTimer = -1;
      processingTimerAt = Long.MAX_VALUE;
      if (stopped) {
        return;
      }
      fireTimers(timers.dueProcessingTime(System.currentTimeMillis()).iterator());
      armProcessingTimer();
    }));
  }

  private void finish() {
    paused = true;
    CompletableFuture<Void> last = watermark < Long.MAX_VALUE ? advance(Long.MAX_VALUE)
        : controller.whenDrained();
    last.whenComplete((v, e) -> context.runOnContext(x -> close()));
  }

  private void close() {
    if (processingTimer >= 0) {
      vertx.cancelTimer(processingTimer);
    }
    try {
      function.close();
    } catch (Exception e) {
      fail(null, e);
      return;
    }
    snapshotsReported.thenCompose(v -> output.stageFinal())
        .whenComplete((staged, error) -> context.runOnContext(v -> {
      if (error != null) {
        fail(null, error);
        return;
      }
      try {
        output.end();
      } catch (Exception e) {
        fail(null, e);
        return;
      }
      events.taskFinished(spec, staged);
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

  private void fail(RecordContext ctx, Throwable error) {
    if (stopped) {
      return;
    }
    stopped = true;
    Throwable cause = error instanceof IllegalStateException && error.getCause() != null
        && error.getMessage() != null && error.getMessage().equals(error.getCause().toString())
        ? error.getCause() : error;
    events.taskFailed(spec, new TaskFailureException(name, ctx == null ? null : ctx.record(),
        ctx == null ? null : ctx.key(), cause));
    done.complete(null);
  }

  /** The function's view of the running record or timer. */
  private final class FunctionContext implements KeyedProcessFunction.Context<Object>,
      KeyedProcessFunction.TimerService {

    private RecordContext current() {
      RecordContext ctx = controller.currentContext();
      if (ctx == null) {
        throw new IllegalStateException("no record is being processed");
      }
      return ctx;
    }

    @Override
    public Object currentKey() {
      return current().key();
    }

    @Override
    public long timestamp() {
      return current().timestamp();
    }

    @Override
    public KeyedProcessFunction.TimerService timerService() {
      return this;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <X> void output(OutputTag<X> tag, X value) {
      SinkWriter<X> writer = (SinkWriter<X>) sideOutputs.get(tag.id());
      if (writer == null) {
        return;
      }
      try {
        writer.write(value);
      } catch (Exception e) {
        throw new IllegalStateException("writing side output '" + tag.id() + "' failed", e);
      }
    }

    @Override
    public long currentWatermark() {
      return watermark;
    }

    @Override
    public long currentProcessingTime() {
      return System.currentTimeMillis();
    }

    private KeyedTimers.Timer timer(long timestamp) {
      RecordContext ctx = current();
      return new KeyedTimers.Timer(timestamp, ctx.keyBytes(), ctx.keyGroup(), states.namespace());
    }

    @Override
    public void registerEventTimeTimer(long timestamp) {
      timers.registerEventTime(timer(timestamp));
    }

    @Override
    public void registerProcessingTimeTimer(long timestamp) {
      timers.registerProcessingTime(timer(timestamp));
      armProcessingTimer();
    }

    @Override
    public void deleteEventTimeTimer(long timestamp) {
      timers.deleteEventTime(timer(timestamp));
    }

    @Override
    public void deleteProcessingTimeTimer(long timestamp) {
      timers.deleteProcessingTime(timer(timestamp));
    }
  }
}
