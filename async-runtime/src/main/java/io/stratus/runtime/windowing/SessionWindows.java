package io.stratus.runtime.windowing;

import java.time.Duration;
import java.util.List;

/**
 * Windows of activity per key: a record opens {@code [timestamp, timestamp + gap)}, and windows
 * of one key that overlap or touch merge, so a session ends after {@code gap} without records.
 * Flink's {@code EventTimeSessionWindows.withGap(gap)} is {@code SessionWindows.ofEventTime(gap)}.
 */
public final class SessionWindows<T> implements WindowAssigner<T> {

  private final long gap;
  private final boolean eventTime;

  private SessionWindows(Duration gap, boolean eventTime) {
    this.gap = TumblingWindows.positive(gap, "session gap");
    this.eventTime = eventTime;
  }

  public static <T> SessionWindows<T> ofEventTime(Duration gap) {
    return new SessionWindows<>(gap, true);
  }

  public static <T> SessionWindows<T> ofProcessingTime(Duration gap) {
    return new SessionWindows<>(gap, false);
  }

  @Override
  public List<TimeWindow> assignWindows(T record, long timestamp) {
    return List.of(new TimeWindow(timestamp, timestamp + gap));
  }

  @Override
  public boolean isEventTime() {
    return eventTime;
  }

  @Override
  public boolean merging() {
    return true;
  }
}
