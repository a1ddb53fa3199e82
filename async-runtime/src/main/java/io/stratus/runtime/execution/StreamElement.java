package io.stratus.runtime.execution;

/** What flows between tasks: records, watermarks and the end of an input. */
sealed interface StreamElement {

  /**
   * A record with its event timestamp ({@link Long#MIN_VALUE} if none) and, after a
   * {@code keyBy}, its key as computed for routing (so the keyed task does not compute it again).
   */
  record Record(Object value, long timestamp, Object key, byte[] keyBytes, int keyGroup)
      implements StreamElement {}

  /** Upstream task {@code input} promises no event older than {@code timestamp} will follow. */
  record Watermark(int input, long timestamp) implements StreamElement {}

  /** Upstream task {@code input} has ended. */
  record End(int input) implements StreamElement {}
}
