package io.stratus.runtime.execution;

import io.stratus.runtime.state.HotBlocks;
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
import io.stratus.runtime.state.StateHandle;
import io.stratus.store.keygroup.KeyGroupRange;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A keyed operator at the head of a task: its function runs each record through the async
 * execution controller (records of different keys overlap, records of one key run strictly in
 * arrival order) against the task's keyed state backend; event-time timers fire when the
 * watermark passes them, processing-time timers on the clock. Records whose code throws go to
 * the dead-letter sink when the job has one. Confined to the task's context.
 */
final class KeyedOperator implements HeadOperator {

  private final TaskSpec spec;
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
  private final Vertx vertx;
  private final Context context;
  private final AsyncExecutionController controller;
  private final KeyedStateStore states;
  private final KeyedTimers timers;
  private final Collector<Object> collector;
  private final FunctionContext functionContext = new FunctionContext();
  private HeadOperator.Failure failure;
  private volatile boolean stopped;
  /** Closed at the end of input: a processing-time timer already queued must not run. */
  private boolean closed;
  private long watermark = Long.MIN_VALUE;
  private long processingTimer = -1;
  private long processingTimerAt = Long.MAX_VALUE;

  @SuppressWarnings("unchecked")
  KeyedOperator(TaskSpec spec, KeyedProcessFunction<?, ?, ?> function, Serde<?> keySerde,
      KeyedStateBackend backend, TaskOutput output, Map<String, SinkWriter<?>> sideOutputs,
      int deadLetterAttempts, DrainTimeLimit limit, Vertx vertx, Context context,
      TaskEvents events) {
    this.spec = spec;
    this.function = (KeyedProcessFunction<Object, Object, Object>) function;
    this.keySerde = (Serde<Object>) keySerde;
    this.backend = backend;
    this.output = output;
    this.sideOutputs = sideOutputs;
    this.deadLetters = (SinkWriter<DeadLetter<Object>>) sideOutputs.get(DeadLetterSink.TAG_ID);
    this.deadLetterAttempts = deadLetterAttempts;
    this.vertx = vertx;
    this.context = context;
    this.controller = new AsyncExecutionController(r -> context.runOnContext(v -> r.run()),
        () -> Vertx.currentContext() == context, limit, this::onRecordFailure);
    controller.onFirstCompletion(() -> events.firstRecordProcessed(spec));
    this.states = new KeyedStateStore(backend, controller, System::currentTimeMillis);
    this.timers = new KeyedTimers(backend);
    this.collector = record -> {
      RecordContext ctx = controller.currentContext();
      try {
        output.emit(record, ctx == null ? Long.MIN_VALUE : ctx.timestamp());
      } catch (Exception | Error e) {
        throw new DownstreamFailure(e);
      }
    };
  }

  AsyncExecutionController controller() {
    return controller;
  }

  KeyedStateBackend backend() {
    return backend;
  }

  /** Loads the timers, then opens the function and the operators chained after it. */
  @Override
  public CompletableFuture<Void> open(int subtask, int parallelism, Failure onFailure) {
    this.failure = onFailure;
    CompletableFuture<Void> opened = new CompletableFuture<>();
    timers.restore(spec.restore()).whenComplete((v, e) -> context.runOnContext(x -> {
      if (e != null) {
        opened.completeExceptionally(e);
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
            return subtask;
          }

          @Override
          public int parallelism() {
            return parallelism;
          }
        });
        output.open(subtask, parallelism);
      } catch (Exception ex) {
        opened.completeExceptionally(ex);
        return;
      }
      armProcessingTimer();
      opened.complete(null);
    }));
    return opened;
  }

  @Override
  public boolean hasCapacity() {
    return controller.hasCapacity();
  }

  @Override
  public CompletableFuture<Void> whenCapacity() {
    return controller.whenCapacity();
  }

  @Override
  public CompletableFuture<Void> whenWritable() {
    return backend.whenWritable();
  }

  @Override
  public void process(Object value, long timestamp, Object key, byte[] keyBytes, int keyGroup) {
    RecordContext ctx = new RecordContext(value, key, keyBytes, keyGroup, timestamp, () -> {
      for (int attempt = 1; ; attempt++) {
        try {
          function.processElement(value, functionContext, collector);
          return;
        } catch (DownstreamFailure e) {
          throw e;
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

  /**
   * An operator chained after this one failed on what this one emitted: the failure is not
   * the record's own (running it again would emit twice, dead-lettering it would hide a broken
   * sink), so it fails the task.
   */
  private static final class DownstreamFailure extends RuntimeException {
    DownstreamFailure(Throwable cause) {
      super(cause);
    }
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
        || ctx.record() instanceof TimerFiring || error instanceof DownstreamFailure) {
      fail(ctx, error instanceof DownstreamFailure d ? d.getCause() : error);
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

  private void fail(RecordContext ctx, Throwable error) {
    if (!stopped && failure != null) {
      failure.fail(ctx == null ? null : ctx.record(), ctx == null ? null : ctx.key(), error);
    }
  }

  @Override
  public CompletableFuture<Void> whenDrained() {
    return controller.whenDrained();
  }

  /**
   * Waits until every record before the boundary has completed, fires the event-time timers due
   * at {@code target} (and those they register that are due too).
   */
  @Override
  public CompletableFuture<Void> advance(long target) {
    CompletableFuture<Void> finished = new CompletableFuture<>();
    controller.whenDrained().whenComplete((v, e) -> context.runOnContext(x -> {
      watermark = target;
      List<KeyedTimers.Timer> due = timers.dueEventTime(target);
      if (due.isEmpty()) {
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
      if (stopped || closed) {
        return;
      }
      fireTimers(timers.dueProcessingTime(System.currentTimeMillis()).iterator());
      armProcessingTimer();
    }));
  }

  @Override
  public CompletableFuture<StateHandle> snapshot() {
    try {
      List<KeyGroupRange> withTimers = timers.keyGroupsWithTimers();
      return backend.snapshot().thenApply(h -> h.withTimerKeyGroups(withTimers));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public HotBlocks hotBlocks() {
    return backend.hotBlocks();
  }

  @Override
  public long uploadedBytes() {
    return backend.uploadedBytes();
  }

  @Override
  public long stateBytes() {
    return backend.approximateSizeBytes();
  }

  @Override
  public int maxObservedInFlight() {
    return controller.maxObservedInFlight();
  }

  @Override
  public void close() throws Exception {
    closed = true;
    if (processingTimer >= 0) {
      vertx.cancelTimer(processingTimer);
    }
    function.close();
  }

  @Override
  public void cancel() {
    stopped = true;
    controller.abandon();
    if (processingTimer >= 0) {
      vertx.cancelTimer(processingTimer);
    }
  }

  @Override
  public void releaseState() {
    backend.close();
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
