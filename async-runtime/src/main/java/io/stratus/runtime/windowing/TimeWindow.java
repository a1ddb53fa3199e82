package io.stratus.runtime.windowing;

import io.stratus.runtime.serde.Serde;
import io.stratus.runtime.serde.BytesOut;
import io.stratus.runtime.serde.BytesIn;

/**
 * A window of time {@code [start, end)}: it holds records with {@code start <= timestamp < end}
 * and fires when the watermark (or, in processing time, the clock) reaches
 * {@link #maxTimestamp()}.
 */
public record TimeWindow(long start, long end) {

  /** Encodes a window as two longs; the key of a window's contents in keyed state. */
  public static final Serde<TimeWindow> SERDE = new Serde<>() {
    @Override
    public void write(TimeWindow value, BytesOut out) {
      out.writeLong(value.start).writeLong(value.end);
    }

    @Override
    public TimeWindow read(BytesIn in) {
      return new TimeWindow(in.readLong(), in.readLong());
    }
  };

  public TimeWindow {
    if (end <= start) {
      throw new IllegalArgumentException("a window must end after it starts: [" + start + ", "
          + end + ")");
    }
  }

  /** The last timestamp the window holds. */
  public long maxTimestamp() {
    return end - 1;
  }

  /** Whether the two overlap or touch (session windows that do are merged). */
  public boolean intersects(TimeWindow other) {
    return start <= other.end && end >= other.start;
  }

  /** The smallest window holding both. */
  public TimeWindow cover(TimeWindow other) {
    return new TimeWindow(Math.min(start, other.start), Math.max(end, other.end));
  }

  /** The start of the window of {@code size} (aligned to {@code offset}) holding a timestamp. */
  static long alignedStart(long timestamp, long offset, long size) {
    return timestamp - Math.floorMod(timestamp - offset, size);
  }
}
