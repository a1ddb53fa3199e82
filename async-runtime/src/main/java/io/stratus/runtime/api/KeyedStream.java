package io.stratus.runtime.api;

import io.stratus.runtime.functions.Collector;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.functions.ReduceFunction;
import io.stratus.runtime.graph.Transformation;
import io.stratus.runtime.serde.Serde;
import io.stratus.runtime.state.Aggregator;
import io.stratus.runtime.state.StateDescriptor;
import io.stratus.runtime.state.ValueState;
import io.stratus.runtime.windowing.WindowAssigner;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * A stream partitioned by key: its operations keep state per key.
 *
 * @param <K> the key
 * @param <T> the records
 */
public final class KeyedStream<K, T> {

  private final StreamEnvironment env;
  private final List<DataStream.Input> inputs;
  private final Serde<K> keySerde;

  KeyedStream(StreamEnvironment env, List<DataStream.Input> inputs, Serde<K> keySerde) {
    this.env = env;
    this.inputs = inputs;
    this.keySerde = keySerde;
  }

  public Serde<K> keySerde() {
    return keySerde;
  }

  /**
   * A keyed operator with the job's parallelism ({@code setParallelism} on its stream sets its
   * own); {@code uid} names its state and is what a rescale names.
   */
  public <R> ProcessedStream<R> process(KeyedProcessFunction<K, T, R> function, String uid) {
    return process(function, uid, 0, OutputTypes.serdeOf(function, KeyedProcessFunction.class,
        2));
  }

  /** A keyed operator whose output's serde is {@code output} (null: unknown). */
  <R> ProcessedStream<R> process(KeyedProcessFunction<K, T, R> function, String uid,
      int parallelism, Serde<?> output) {
    if (uid == null || uid.isBlank() || uid.contains("/") || uid.contains("|")) {
      throw new IllegalArgumentException("a keyed operator needs a uid without '/' and '|', "
          + "was '" + uid + "'");
    }
    if (parallelism < 0) {
      throw new IllegalArgumentException("parallelism must be >= 0 (0: the job's), was "
          + parallelism);
    }
    int id = env.add(next -> new Transformation.KeyedProcessNode(next, uid, uid, function,
        parallelism, new LinkedHashMap<>()), inputs, output);
    return new ProcessedStream<>(env, id);
  }

  /** Groups each key's records into windows; see {@link WindowedStream}. */
  public WindowedStream<K, T> window(WindowAssigner<? super T> assigner) {
    return new WindowedStream<>(this, assigner);
  }

  /** A rolling reduce: emits the key's reduced value after each record. */
  public ProcessedStream<T> reduce(ReduceFunction<T> reduce, Serde<T> valueSerde, String uid) {
    return process(new ReduceOperator<>(reduce, valueSerde), uid, 0, valueSerde);
  }

  /** A rolling aggregate: emits the key's current result after each record. */
  public <A, R> ProcessedStream<R> aggregate(Aggregator<T, A, R> aggregator, Serde<A> accSerde,
      String uid) {
    return process(new AggregateOperator<>(aggregator, accSerde), uid, 0,
        OutputTypes.serdeOf(aggregator, Aggregator.class, 2));
  }

  private static final class ReduceOperator<K, T> extends KeyedProcessFunction<K, T, T> {
    private final StateDescriptor.Value<T> descriptor;
    private final ReduceFunction<T> reduce;
    private transient ValueState<T> state;

    ReduceOperator(ReduceFunction<T> reduce, Serde<T> serde) {
      this.reduce = reduce;
      this.descriptor = new StateDescriptor.Value<>("reduce", serde);
    }

    @Override
    public void open(OpenContext context) {
      state = context.state(descriptor);
    }

    @Override
    public void processElement(T value, Context<K> context, Collector<T> out) {
      state.value().thenAccept(old -> {
        T next;
        try {
          next = old == null ? value : reduce.reduce(old, value);
        } catch (Exception e) {
          throw new IllegalStateException("reduce function failed", e);
        }
        state.update(next);
        out.collect(next);
      });
    }
  }

  private static final class AggregateOperator<K, T, A, R>
      extends KeyedProcessFunction<K, T, R> {
    private final StateDescriptor.Value<A> descriptor;
    private final Aggregator<T, A, R> aggregator;
    private transient ValueState<A> state;

    AggregateOperator(Aggregator<T, A, R> aggregator, Serde<A> serde) {
      this.aggregator = aggregator;
      this.descriptor = new StateDescriptor.Value<>("aggregate", serde);
    }

    @Override
    public void open(OpenContext context) {
      state = context.state(descriptor);
    }

    @Override
    public void processElement(T value, Context<K> context, Collector<R> out) {
      state.value().thenAccept(acc -> {
        A next = aggregator.add(value, acc == null ? aggregator.createAccumulator() : acc);
        state.update(next);
        out.collect(aggregator.getResult(next));
      });
    }
  }
}
