package io.stratus.runtime.windowing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Windows of {@code size} starting every {@code slide}: a record is in {@code size / slide} of
 * them (the last 10 minutes, every minute). Flink's {@code SlidingEventTimeWindows.of(size,
 * slide)} is {@code SlidingWindows.ofEventTime(size, slide)}.
 */
public final class SlidingWindows<T> implements WindowAssigner<T> {

  private final long size;
  private final long slide;
  private final boolean eventTime;

  private SlidingWindows(Duration size, Duration slide, boolean eventTime) {
    this.size = TumblingWindows.positive(size, "sliding window size");
    this.slide = TumblingWindows.positive(slide, "sliding window slide");
    if (this.slide > this.size) {
      throw new IllegalArgumentException("a sliding window's slide (" + slide + ") must not "
          + "exceed its size (" + size + "): records between windows would be lost");
    }
    this.eventTime = eventTime;
  }

  public static <T> SlidingWindows<T> ofEventTime(Duration size, Duration slide) {
    return new SlidingWindows<>(size, slide, true);
  }

  public static <T> SlidingWindows<T> ofProcessingTime(Duration size, Duration slide) {
    return new SlidingWindows<>(size, slide, false);
  }

  /** The windows holding {@code timestamp}, latest start first (as Flink). */
  @Override
  public List<TimeWindow> assignWindows(T record, long timestamp) {
    List<TimeWindow> windows = new ArrayList<>((int) (size / slide) + 1);
    for (long start = TimeWindow.alignedStart(timestamp, 0, slide); start > timestamp - size;
        start -= slide) {
      windows.add(new TimeWindow(start, start + size));
    }
    return windows;
  }

  @Override
  public boolean isEventTime() {
    return eventTime;
  }
}
