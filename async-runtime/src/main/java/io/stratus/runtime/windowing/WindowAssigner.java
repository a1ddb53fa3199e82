package io.stratus.runtime.windowing;

import java.io.Serializable;
import java.util.List;

/**
 * Decides which windows a record belongs to, from its timestamp (event time) or the clock at
 * arrival (processing time). Built by {@link TumblingWindows}, {@link SlidingWindows} and
 * {@link SessionWindows}.
 *
 * @param <T> the records
 */
public interface WindowAssigner<T> extends Serializable {

  /** The windows of a record with {@code timestamp} (event or processing time). */
  List<TimeWindow> assignWindows(T record, long timestamp);

  /** Whether windows follow event time (the watermark) rather than the clock. */
  boolean isEventTime();

  /** Whether overlapping windows of one key merge into one (session windows). */
  default boolean merging() {
    return false;
  }
}
