package io.stratus.runtime.execution;

/**
 * What flows between tasks: records, watermarks and idleness, checkpoint barriers and end of
 * input.
 */
sealed interface StreamElement {

  /** The upstream task (its index among the producers of the inbox) that sent the element. */
  int input();

  /**
   * A record from upstream task {@code input} with its event timestamp ({@link Long#MIN_VALUE}
   * if none) and, after a {@code keyBy}, its key as computed for routing (so the keyed task does
   * not compute it again).
   */
  record Record(int input, Object value, long timestamp, Object key, byte[] keyBytes,
      int keyGroup) implements StreamElement {}

  /**
   * Checkpoint {@code checkpointId} passed upstream task {@code input}: everything before it
   * belongs to the checkpoint, everything after to the next.
   */
  record Barrier(int input, long checkpointId) implements StreamElement {}

  /** Upstream task {@code input} promises no event older than {@code timestamp} will follow. */
  record Watermark(int input, long timestamp) implements StreamElement {}

  /**
   * Upstream task {@code input} went idle (reads nothing; leave it out of the watermark) or
   * active again.
   */
  record WatermarkStatus(int input, boolean idle) implements StreamElement {}

  /** Upstream task {@code input} has ended. */
  record End(int input) implements StreamElement {}
}
