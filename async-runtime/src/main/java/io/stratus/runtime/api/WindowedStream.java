package io.stratus.runtime.api;

import io.stratus.runtime.functions.OutputTag;
import io.stratus.runtime.functions.ReduceFunction;
import io.stratus.runtime.serde.Serde;
import io.stratus.runtime.state.Aggregator;
import io.stratus.runtime.windowing.ProcessWindowFunction;
import io.stratus.runtime.windowing.WindowAssigner;
import io.stratus.runtime.windowing.WindowOperator;
import java.time.Duration;

/**
 * A keyed stream grouped into windows, as Flink's {@code WindowedStream}: set the allowed
 * lateness and the late-data side output, then end with {@code reduce}, {@code aggregate} or
 * {@code process}, which add the window operator (uid names its state). Windows fire on the
 * watermark (event time) or the clock (processing time); custom triggers and evictors are not
 * supported.
 *
 * @param <K> the key
 * @param <T> the records
 */
public final class WindowedStream<K, T> {

  private final KeyedStream<K, T> keyed;
  private final WindowAssigner<? super T> assigner;
  private long allowedLateness;
  private OutputTag<T> lateData;

  WindowedStream(KeyedStream<K, T> keyed, WindowAssigner<? super T> assigner) {
    if (assigner == null) {
      throw new IllegalArgumentException("a window assigner is required");
    }
    this.keyed = keyed;
    this.assigner = assigner;
  }

  /**
   * How long after a window fired late records still update it (and fire it again); event
   * time only. Default zero: a record whose window has fired is late.
   */
  public WindowedStream<K, T> allowedLateness(Duration lateness) {
    if (lateness.isNegative()) {
      throw new IllegalArgumentException("allowed lateness must be >= 0, was " + lateness);
    }
    this.allowedLateness = lateness.toMillis();
    return this;
  }

  /**
   * Records too late for any window go to side output {@code tag} (send it to a sink with
   * {@link ProcessedStream#sideOutputTo}); without it they are dropped.
   */
  public WindowedStream<K, T> sideOutputLateData(OutputTag<T> tag) {
    this.lateData = tag;
    return this;
  }

  /** Each window's records folded with {@code reduce}, emitted when it fires. */
  public ProcessedStream<T> reduce(ReduceFunction<T> reduce, Serde<T> serde, String uid) {
    return keyed.process(WindowOperator.reducing(assigner, reduce, serde, allowedLateness,
        lateData), uid, 0, serde);
  }

  /** Each window's aggregate (incremental; it must merge for session windows). */
  public <A, R> ProcessedStream<R> aggregate(Aggregator<T, A, R> aggregator, Serde<A> accSerde,
      String uid) {
    return keyed.process(WindowOperator.aggregating(assigner, aggregator, accSerde,
        allowedLateness, lateData), uid, 0, OutputTypes.serdeOf(aggregator, Aggregator.class, 2));
  }

  /**
   * Each window's aggregate (incremental), handed with the window to {@code function} when it
   * fires: the window's metadata without keeping its records.
   */
  public <A, R, OUT> ProcessedStream<OUT> aggregate(Aggregator<T, A, R> aggregator,
      Serde<A> accSerde, ProcessWindowFunction<R, OUT, K> function, String uid) {
    return keyed.process(WindowOperator.aggregating(assigner, aggregator, accSerde, function,
        allowedLateness, lateData), uid, 0,
        OutputTypes.serdeOf(function, ProcessWindowFunction.class, 1));
  }

  /** All of each window's records, with the window, handed to {@code function}. */
  public <R> ProcessedStream<R> process(ProcessWindowFunction<T, R, K> function, Serde<T> serde,
      String uid) {
    return keyed.process(WindowOperator.processing(assigner, function, serde, allowedLateness,
        lateData), uid, 0, OutputTypes.serdeOf(function, ProcessWindowFunction.class, 1));
  }
}
