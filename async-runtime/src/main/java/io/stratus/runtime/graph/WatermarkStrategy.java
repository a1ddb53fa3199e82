package io.stratus.runtime.graph;

import java.io.Serializable;
import java.time.Duration;

/**
 * How a source task derives watermarks from the event timestamps it reads: the watermark says
 * "no event older than this will come". Emitted after each batch a source reads, and as
 * {@link Long#MAX_VALUE} when a bounded source ends.
 */
public final class WatermarkStrategy implements Serializable {

  private final boolean enabled;
  private final long outOfOrdernessMillis;

  private WatermarkStrategy(boolean enabled, long outOfOrdernessMillis) {
    this.enabled = enabled;
    this.outOfOrdernessMillis = outOfOrdernessMillis;
  }

  /** No watermarks until the end of a bounded input. */
  public static WatermarkStrategy noWatermarks() {
    return new WatermarkStrategy(false, 0);
  }

  /** Timestamps never go back: the watermark follows the largest one. */
  public static WatermarkStrategy forMonotonousTimestamps() {
    return new WatermarkStrategy(true, 0);
  }

  /** Events arrive at most {@code bound} after later events. */
  public static WatermarkStrategy forBoundedOutOfOrderness(Duration bound) {
    if (bound.isNegative()) {
      throw new IllegalArgumentException("out-of-orderness bound must be >= 0, was " + bound);
    }
    return new WatermarkStrategy(true, bound.toMillis());
  }

  /** The watermark after seeing timestamps up to {@code maxTimestamp}, or MIN if disabled. */
  public long watermarkFor(long maxTimestamp) {
    if (!enabled || maxTimestamp == Long.MIN_VALUE) {
      return Long.MIN_VALUE;
    }
    return maxTimestamp - outOfOrdernessMillis - 1;
  }
}
