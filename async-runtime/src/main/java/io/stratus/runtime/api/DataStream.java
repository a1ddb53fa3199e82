package io.stratus.runtime.api;

import io.stratus.runtime.functions.FilterFunction;
import io.stratus.runtime.functions.FlatMapFunction;
import io.stratus.runtime.functions.KeySelector;
import io.stratus.runtime.functions.MapFunction;
import io.stratus.runtime.graph.Transformation;
import io.stratus.runtime.serde.Serde;
import io.stratus.runtime.sink.Sink;

/**
 * A stream of records in a job being built. Stateless steps run chained in the task that
 * produces their input; {@link #keyBy} repartitions by key group for a keyed operator.
 *
 * @param <T> the records
 */
public class DataStream<T> {

  final StreamEnvironment env;

  DataStream(StreamEnvironment env) {
    this.env = env;
  }

  public <R> DataStream<R> map(MapFunction<T, R> function) {
    env.add(new Transformation.MapNode("map", function));
    return new DataStream<>(env);
  }

  public DataStream<T> filter(FilterFunction<T> function) {
    env.add(new Transformation.FilterNode("filter", function));
    return this;
  }

  public <R> DataStream<R> flatMap(FlatMapFunction<T, R> function) {
    env.add(new Transformation.FlatMapNode("flatMap", function));
    return new DataStream<>(env);
  }

  /**
   * Partitions by key. The key's bytes (from {@code keySerde}) decide its key group, so the
   * serde must be deterministic; records of one key go to one task, in order.
   */
  public <K> KeyedStream<K, T> keyBy(KeySelector<T, K> selector, Serde<K> keySerde) {
    env.add(new Transformation.KeyByNode("keyBy", selector, keySerde));
    return new KeyedStream<>(env, keySerde);
  }

  /** Ends the pipeline. */
  public void sinkTo(Sink<T> sink) {
    sinkTo(sink, "sink");
  }

  public void sinkTo(Sink<T> sink, String name) {
    env.add(new Transformation.SinkNode(name, sink));
  }
}
