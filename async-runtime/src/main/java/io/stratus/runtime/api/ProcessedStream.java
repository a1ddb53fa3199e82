package io.stratus.runtime.api;

import io.stratus.runtime.functions.DeadLetter;
import io.stratus.runtime.functions.OutputTag;
import io.stratus.runtime.graph.Transformation;
import io.stratus.runtime.sink.DeadLetterSink;
import io.stratus.runtime.sink.Sink;

/**
 * The output of a keyed operator, whose side outputs can be sent to sinks. Where Flink returns a
 * stream for each side output ({@code getSideOutput(tag)}), a Stratus side output goes straight
 * to a sink, written by the operator's tasks; a two-phase sink's side output is staged and
 * committed with the same checkpoints as the main output.
 *
 * @param <T> the main output's records
 */
public final class ProcessedStream<T> extends DataStream<T> {

  private final Transformation.KeyedProcessNode node;

  ProcessedStream(StreamEnvironment env, int id) {
    super(env, id);
    this.node = (Transformation.KeyedProcessNode) env.node(id);
  }

  /** Sends the side output {@code tag} to {@code sink}; one sink per tag. */
  public <X> ProcessedStream<T> sideOutputTo(OutputTag<X> tag, Sink<X> sink) {
    if (node.sideOutputs().putIfAbsent(tag.id(), sink) != null) {
      throw new IllegalArgumentException("operator '" + node.uid() + "' sends side output '"
          + tag.id() + "' to a sink already");
    }
    return this;
  }

  /**
   * Records whose processing throws go to {@code sink} as {@link DeadLetter}s instead of
   * failing the job. A record whose code throws is run again at once, up to
   * {@code maxAttempts} runs in all; a failure inside a state continuation is not retried (the
   * record's earlier state updates have been applied) and is dead-lettered at once. Failures of
   * the state backend itself and of timers still fail the job. Committed with the checkpoints,
   * like every side output.
   */
  public <X> ProcessedStream<T> deadLettersTo(Sink<DeadLetter<X>> sink, int maxAttempts) {
    if (node.sideOutputs().putIfAbsent(DeadLetterSink.TAG_ID,
        new DeadLetterSink<>(sink, maxAttempts)) != null) {
      throw new IllegalArgumentException("operator '" + node.uid() + "' has a dead-letter sink "
          + "already");
    }
    return this;
  }
}
