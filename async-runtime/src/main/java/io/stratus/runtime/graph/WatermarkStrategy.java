package io.stratus.runtime.graph;

import java.io.Serializable;
import java.time.Duration;

/**
 * How a source task derives watermarks from the event timestamps it reads; a watermark says "no
 * event older than this will come". Each source task gets its own {@link Generator}; the task
 * emits the generator's watermark after each batch it reads and every {@link #emitInterval}
 * (also when no records come), and {@link Long#MAX_VALUE} when a bounded source ends.
 *
 * <p>With {@link #withIdleness}, a source task that reads nothing for that long declares itself
 * idle: downstream operators leave it out of their watermark (the minimum over their active
 * inputs) until it reads again. Without it, one quiet input holds every window back.
 *
 * <p>Differs from Flink: timestamps come from the source ({@code SourceRecord.timestamp()}),
 * there is no separate timestamp assigner.
 */
public final class WatermarkStrategy implements Serializable {

  /** Turns the timestamps one source task reads into watermarks. */
  public interface Generator {
    /** A record with event timestamp {@code timestamp} was read. */
    void onEvent(long timestamp);

    /** The watermark now, or {@link Long#MIN_VALUE} for none yet. */
    long currentWatermark();
  }

  /** Makes a task's generator; serializable, as the strategy travels with the job. */
  @FunctionalInterface
  public interface GeneratorSupplier extends Serializable {
    Generator create();
  }

  private static final Duration DEFAULT_EMIT_INTERVAL = Duration.ofMillis(200);

  private final GeneratorSupplier generators;
  private final Duration idleness;
  private final Duration emitInterval;

  private WatermarkStrategy(GeneratorSupplier generators, Duration idleness,
      Duration emitInterval) {
    this.generators = generators;
    this.idleness = idleness;
    this.emitInterval = emitInterval;
  }

  /** No watermarks until the end of a bounded input. */
  public static WatermarkStrategy noWatermarks() {
    return new WatermarkStrategy(null, Duration.ZERO, DEFAULT_EMIT_INTERVAL);
  }

  /** Timestamps never go back: the watermark follows the largest one. */
  public static WatermarkStrategy forMonotonousTimestamps() {
    return forBoundedOutOfOrderness(Duration.ZERO);
  }

  /** Events arrive at most {@code bound} after later events. */
  public static WatermarkStrategy forBoundedOutOfOrderness(Duration bound) {
    if (bound.isNegative()) {
      throw new IllegalArgumentException("out-of-orderness bound must be >= 0, was " + bound);
    }
    long millis = bound.toMillis();
    return forGenerator(() -> new BoundedOutOfOrderness(millis));
  }

  /** Watermarks from a generator of the job's own (one per source task). */
  public static WatermarkStrategy forGenerator(GeneratorSupplier generators) {
    if (generators == null) {
      throw new IllegalArgumentException("a watermark generator supplier is required");
    }
    return new WatermarkStrategy(generators, Duration.ZERO, DEFAULT_EMIT_INTERVAL);
  }

  /** A source task that reads nothing for {@code timeout} is idle until it reads again. */
  public WatermarkStrategy withIdleness(Duration timeout) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("idleness timeout must be > 0, was " + timeout);
    }
    return new WatermarkStrategy(generators, timeout, emitInterval);
  }

  /** How often a source task emits its watermark besides after each batch (default 200 ms). */
  public WatermarkStrategy withEmitInterval(Duration interval) {
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("watermark emit interval must be > 0, was " + interval);
    }
    return new WatermarkStrategy(generators, idleness, interval);
  }

  /** A new generator for one source task, or null if this strategy makes no watermarks. */
  public Generator createGenerator() {
    return generators == null ? null : generators.create();
  }

  /** The idleness timeout, or zero if inputs never count as idle. */
  public Duration idleness() {
    return idleness;
  }

  public Duration emitInterval() {
    return emitInterval;
  }

  /** The watermark is the largest timestamp seen minus the bound, minus 1 ms (as Flink). */
  private static final class BoundedOutOfOrderness implements Generator {
    private final long bound;
    private long max = Long.MIN_VALUE;

    BoundedOutOfOrderness(long bound) {
      this.bound = bound;
    }

    @Override
    public void onEvent(long timestamp) {
      max = Math.max(max, timestamp);
    }

    @Override
    public long currentWatermark() {
      return max == Long.MIN_VALUE ? Long.MIN_VALUE : max - bound - 1;
    }
  }
}
