package io.stratus.runtime.execution;

import io.stratus.runtime.functions.DeadLetter;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.sink.SinkWriter;
import io.stratus.runtime.source.SourceReader;
import io.stratus.runtime.source.SourceRecord;
import io.stratus.runtime.source.SplitLag;
import io.stratus.runtime.source.UnreadableRecordException;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads one source split on its own Vert.x context, pushes records through its chained steps to
 * the next operator, emits watermarks after each batch and periodically (declaring itself idle
 * when it has read nothing for the strategy's idleness timeout), and pauses while downstream
 * inboxes are full. A checkpoint trigger puts a barrier between two batches and reports the
 * position at that point. Yields to the event loop between batches.
 */
final class SourceTask implements DeployedTask {

  private static final Logger LOG = LoggerFactory.getLogger(SourceTask.class);

  private final TaskSpec spec;
  private final String name;
  private final Vertx vertx;
  private final Context context;
  private final SourceReader<?> reader;
  private final WatermarkStrategy watermarks;
  /** Null when the strategy makes no watermarks. */
  private final WatermarkStrategy.Generator generator;
  /** Watermarks per split, for records that name theirs; null without watermarks. */
  private final SplitWatermarks splitWatermarks;
  private final TaskOutput output;
  /** Where records the reader cannot read go; null: such a record fails the task. */
  private final SinkWriter<DeadLetter<byte[]>> deadLetters;
  private final int batch;
  private final TaskEvents events;
  private final CompletableFuture<Void> done = new CompletableFuture<>();
  private volatile boolean stopped;
  /** Completes once every barrier's snapshot has been reported (see StreamTask). */
  private CompletableFuture<Void> snapshotsReported = CompletableFuture.completedFuture(null);
  /** Emitted a halting barrier: polls no more (the task is canceled next). */
  private boolean halted;
  private boolean ended;
  private long watermark = Long.MIN_VALUE;
  private long periodicTimer = -1;
  private long lastRecordAt = System.currentTimeMillis();
  private boolean idle;
  private volatile long records;
  /** The reader's lag, refreshed on the task's context about once a second. */
  private volatile Map<String, SplitLag> lag = Map.of();
  private long lagAt;

  SourceTask(TaskSpec spec, String name, Vertx vertx, Context context, SourceReader<?> reader,
      WatermarkStrategy watermarks, TaskOutput output,
      SinkWriter<DeadLetter<byte[]>> deadLetters, int batch, TaskEvents events) {
    this.spec = spec;
    this.name = name;
    this.vertx = vertx;
    this.context = context;
    this.reader = reader;
    this.watermarks = watermarks;
    this.generator = watermarks.createGenerator();
    this.splitWatermarks = generator == null ? null
        : new SplitWatermarks(watermarks, System.currentTimeMillis());
    this.output = output;
    this.deadLetters = deadLetters;
    this.batch = batch;
    this.events = events;
    if (spec.sourcePosition() != null) {
      reader.seek(spec.sourcePosition());
    }
  }

  @Override
  public TaskSpec spec() {
    return spec;
  }

  @Override
  public boolean isSource() {
    return true;
  }

  @Override
  public CompletableFuture<Void> start() {
    context.runOnContext(v -> {
      try {
        output.open(spec.subtask(), spec.parallelism());
      } catch (Exception e) {
        fail(new TaskFailureException(name, null, null, e));
        return;
      }
      if (generator != null || !watermarks.idleness().isZero()) {
        periodicTimer = vertx.setPeriodic(watermarks.emitInterval().toMillis(),
            id -> context.runOnContext(x -> onPeriodic()));
      }
      step();
    });
    return done;
  }

  private void onPeriodic() {
    if (stopped || ended || halted) {
      return;
    }
    emitWatermark();
    if (!idle && !watermarks.idleness().isZero()
        && System.currentTimeMillis() - lastRecordAt >= watermarks.idleness().toMillis()) {
      idle = true;
      output.watermarkStatus(true);
    }
  }

  private void emitWatermark() {
    long next = generator == null ? Long.MIN_VALUE
        : splitWatermarks.hasSplits()
            ? splitWatermarks.current(reader.splits(), System.currentTimeMillis())
            : generator.currentWatermark();
    if (next > watermark) {
      watermark = next;
      output.watermark(next);
    }
  }

  private void stopPeriodic() {
    if (periodicTimer >= 0) {
      vertx.cancelTimer(periodicTimer);
      periodicTimer = -1;
    }
  }

  @Override
  public long records() {
    return records;
  }

  @Override
  public int maxObservedInFlight() {
    return 0;
  }

  @Override
  public Map<String, SplitLag> sourceLag() {
    return lag;
  }

  @Override
  public long stateBytes() {
    return 0;
  }

  @Override
  public void releaseState() {
    // A source's only state is its offset, which checkpoints carry.
  }

  @Override
  public CompletableFuture<Void> cancel() {
    stopped = true;
    CompletableFuture<Void> quiet = new CompletableFuture<>();
    context.runOnContext(v -> {
      stopPeriodic();
      closeReader();
      done.complete(null);
      quiet.complete(null);
    });
    return quiet;
  }

  @Override
  public void triggerCheckpoint(long checkpointId, boolean halt) {
    context.runOnContext(v -> {
      if (stopped) {
        return;
      }
      if (ended) {
        events.snapshotFailed(spec, checkpointId,
            new IllegalStateException("source " + name + " has ended"), List.of());
        return;
      }
      Map<String, Long> position = reader.position();
      halted |= halt;
      CompletableFuture<Void> reported = new CompletableFuture<>();
      snapshotsReported = CompletableFuture.allOf(snapshotsReported, reported);
      output.barrier(checkpointId).whenComplete((committables, error) ->
          context.runOnContext(x -> {
        if (stopped) {
          reported.complete(null);
          return;
        }
        if (error != null) {
          // The staged output left the writer's buffer: only a replay can bring it back.
          fail(new TaskFailureException(name, null, null, new IllegalStateException(
              "staging output for checkpoint " + checkpointId + " failed", error)));
        } else {
          events.snapshotTaken(spec, checkpointId,
              new TaskSnapshot(position, null, committables, 0, null, null));
        }
        reported.complete(null);
      }));
    });
  }

  private void step() {
    if (stopped) {
      done.complete(null);
      return;
    }
    if (halted) {
      return;
    }
    if (!output.hasSpace()) {
      output.whenSpace(() -> context.runOnContext(v -> step()));
      return;
    }
    List<? extends SourceRecord<?>> polled;
    try {
      try {
        polled = reader.poll(batch);
      } catch (UnreadableRecordException e) {
        if (deadLetters == null) {
          throw e;
        }
        deadLetters.write(new DeadLetter<>(e.bytes(), e.where(), e.timestamp(), e.getMessage(),
            1));
        context.runOnContext(v -> step());
        return;
      }
      if (polled == null) {
        finish();
        return;
      }
      if (!polled.isEmpty()) {
        lastRecordAt = System.currentTimeMillis();
        if (idle) {
          idle = false;
          output.watermarkStatus(false);
        }
      }
      for (SourceRecord<?> r : polled) {
        if (generator != null) {
          if (r.split() != null) {
            splitWatermarks.onEvent(r.split(), r.timestamp(), lastRecordAt);
          } else {
            generator.onEvent(r.timestamp());
          }
        }
        records++;
        try {
          output.emit(r.value(), r.timestamp());
        } catch (Exception | Error e) {
          // An Error too: escaping to the event loop, it would stall the task unreported.
          fail(new TaskFailureException(name, r.value(), null, e));
          return;
        }
      }
    } catch (Exception | Error e) {
      fail(new TaskFailureException(name, null, null, e));
      return;
    }
    emitWatermark();
    long now = System.currentTimeMillis();
    if (now - lagAt >= 1_000) {
      lagAt = now;
      lag = Map.copyOf(reader.lag());
    }
    if (polled.isEmpty()) {
      vertx.setTimer(10, id -> context.runOnContext(v -> step()));
    } else {
      context.runOnContext(v -> step());
    }
  }

  private void finish() {
    ended = true;
    stopPeriodic();
    output.watermark(Long.MAX_VALUE);
    snapshotsReported.thenCompose(x -> output.stageFinal())
        .whenComplete((staged, error) -> context.runOnContext(v -> {
      if (error != null) {
        fail(new TaskFailureException(name, null, null, error));
        return;
      }
      try {
        output.end();
        reader.close();
      } catch (Exception e) {
        fail(new TaskFailureException(name, null, null, e));
        return;
      }
      events.taskFinished(spec, reader.position(), staged);
      done.complete(null);
    }));
  }

  /** Releases what the reader holds (a Kafka consumer and its thread) when the task stops. */
  private void closeReader() {
    try {
      reader.close();
    } catch (Exception e) {
      LOG.warn("closing the reader of {} failed", name, e);
    }
  }

  private void fail(TaskFailureException e) {
    stopped = true;
    stopPeriodic();
    closeReader();
    events.taskFailed(spec, e);
    done.complete(null);
  }
}
