package io.stratus.runtime.api;

import io.stratus.runtime.functions.DeadLetter;
import io.stratus.runtime.graph.Transformation;
import io.stratus.runtime.sink.Sink;
import io.stratus.runtime.source.UnreadableRecordException;

/**
 * The records of a source, whose unreadable records can be sent to a sink. Flink's sources fail
 * the job on a record their deserializer rejects unless the deserializer itself skips it; here a
 * reader reports such a record ({@link UnreadableRecordException}) and the job chooses.
 *
 * @param <T> the records
 */
public final class SourceStream<T> extends DataStream<T> {

  private final Transformation.SourceNode node;

  SourceStream(StreamEnvironment env, int id) {
    super(env, id);
    this.node = (Transformation.SourceNode) env.node(id);
  }

  /**
   * Records the source cannot read (bytes its serde rejects) go to {@code sink} as
   * {@link DeadLetter}s of their bytes, keyed by where they were (a Kafka partition and offset),
   * with the error, and the job reads on. Committed with the checkpoints, like every side
   * output: with a two-phase sink each unreadable record is written once. Without it, such a
   * record fails the task (and, replayed, every restart).
   */
  public SourceStream<T> deadLettersTo(Sink<DeadLetter<byte[]>> sink) {
    if (node.sideOutputs().putIfAbsent(io.stratus.runtime.sink.DeadLetterSink.TAG_ID, sink)
        != null) {
      throw new IllegalArgumentException("source '" + node.name() + "' has a dead-letter sink "
          + "already");
    }
    return this;
  }
}
