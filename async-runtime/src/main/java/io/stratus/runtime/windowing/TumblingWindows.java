package io.stratus.runtime.windowing;

import java.time.Duration;
import java.util.List;

/**
 * Fixed-size windows that do not overlap, each record in exactly one: hourly billing, say.
 * Flink's {@code TumblingEventTimeWindows.of(size)} is {@code TumblingWindows.ofEventTime(size)}.
 */
public final class TumblingWindows<T> implements WindowAssigner<T> {

  private final long size;
  private final long offset;
  private final boolean eventTime;

  private TumblingWindows(Duration size, Duration offset, boolean eventTime) {
    this.size = positive(size, "tumbling window size");
    this.offset = offset.toMillis();
    this.eventTime = eventTime;
  }

  static long positive(Duration value, String what) {
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(what + " must be > 0, was " + value);
    }
    return value.toMillis();
  }

  public static <T> TumblingWindows<T> ofEventTime(Duration size) {
    return new TumblingWindows<>(size, Duration.ZERO, true);
  }

  /** Windows aligned to {@code offset} past the epoch instead of the epoch (time zones, say). */
  public static <T> TumblingWindows<T> ofEventTime(Duration size, Duration offset) {
    return new TumblingWindows<>(size, offset, true);
  }

  public static <T> TumblingWindows<T> ofProcessingTime(Duration size) {
    return new TumblingWindows<>(size, Duration.ZERO, false);
  }

  @Override
  public List<TimeWindow> assignWindows(T record, long timestamp) {
    long start = TimeWindow.alignedStart(timestamp, offset, size);
    return List.of(new TimeWindow(start, start + size));
  }

  @Override
  public boolean isEventTime() {
    return eventTime;
  }
}
