package io.stratus.runtime.execution;

import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.source.SourceReader;
import io.stratus.runtime.source.SourceRecord;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Reads one source split on its own Vert.x context, pushes records through its chained steps to
 * the next operator, emits watermarks after each batch, and pauses while downstream inboxes are
 * full. Yields to the event loop between batches.
 */
final class SourceTask {

  private final String name;
  private final Vertx vertx;
  private final Context context;
  private final SourceReader<?> reader;
  private final WatermarkStrategy watermarks;
  private final TaskOutput output;
  private final int batch;
  private final JobRun job;
  private final CompletableFuture<Void> done = new CompletableFuture<>();
  private long maxTimestamp = Long.MIN_VALUE;
  private long watermark = Long.MIN_VALUE;
  private long records;

  SourceTask(String name, Vertx vertx, SourceReader<?> reader, WatermarkStrategy watermarks,
      TaskOutput output, int batch, JobRun job) {
    this.name = name;
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.reader = reader;
    this.watermarks = watermarks;
    this.output = output;
    this.batch = batch;
    this.job = job;
  }

  CompletableFuture<Void> start() {
    context.runOnContext(v -> step());
    return done;
  }

  long records() {
    return records;
  }

  private void step() {
    if (job.stopped()) {
      done.complete(null);
      return;
    }
    if (!output.hasSpace()) {
      output.whenSpace(() -> context.runOnContext(v -> step()));
      return;
    }
    List<? extends SourceRecord<?>> polled;
    try {
      polled = reader.poll(batch);
      if (polled == null) {
        output.watermark(Long.MAX_VALUE);
        output.end();
        reader.close();
        done.complete(null);
        return;
      }
      for (SourceRecord<?> r : polled) {
        maxTimestamp = Math.max(maxTimestamp, r.timestamp());
        records++;
        try {
          output.emit(r.value(), r.timestamp());
        } catch (Exception e) {
          job.fail(new TaskFailureException(name, r.value(), null, e));
          done.complete(null);
          return;
        }
      }
    } catch (Exception e) {
      job.fail(new TaskFailureException(name, null, null, e));
      done.complete(null);
      return;
    }
    long next = watermarks.watermarkFor(maxTimestamp);
    if (next > watermark) {
      watermark = next;
      output.watermark(next);
    }
    if (polled.isEmpty()) {
      vertx.setTimer(10, id -> step());
    } else {
      context.runOnContext(v -> step());
    }
  }
}
