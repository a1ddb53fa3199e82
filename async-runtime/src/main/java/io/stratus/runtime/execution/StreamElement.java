package io.stratus.runtime.execution;

/**
 * What flows between tasks through an inbox: records, watermarks and idleness, checkpoint
 * barriers and end of input, each from one channel of the inbox ({@link #input()}).
 */
sealed interface StreamElement {

  /** The channel of the inbox (an upstream task on an input edge) that sent the element. */
  int input();

  /**
   * A record from channel {@code input}, as bytes of its edge's serde (decoded by the consuming
   * task, on its thread), with its event timestamp ({@link Long#MIN_VALUE} if none) and, after a
   * {@code keyBy}, its key's bytes and key group as computed for routing (null and -1
   * elsewhere).
   */
  record Record(int input, byte[] value, long timestamp, byte[] keyBytes, int keyGroup)
      implements StreamElement {}

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
