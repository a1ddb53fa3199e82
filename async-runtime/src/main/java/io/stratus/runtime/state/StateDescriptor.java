package io.stratus.runtime.state;

import io.stratus.runtime.serde.Serde;
import java.util.Objects;


/**
 * Declares a keyed state: its kind, name (unique per operator; it keys the state in checkpoints,
 * so keep it stable across versions of a job), serdes and optional TTL. As in Flink, operators
 * get state handles from descriptors when they open.
 *
 * @param <S> the state handle type
 */
public abstract sealed class StateDescriptor<S> implements java.io.Serializable {

  private final String name;
  private StateTtlConfig ttl;

  StateDescriptor(String name) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("a state needs a non-blank name");
    }
    this.name = name;
  }

  public String name() {
    return name;
  }

  /** The TTL, or {@code null}. */
  public StateTtlConfig ttl() {
    return ttl;
  }

  /** Gives the state's entries a time to live. */
  public void enableTimeToLive(StateTtlConfig config) {
    this.ttl = Objects.requireNonNull(config, "ttl");
  }

  /** A single value per key. */
  public static final class Value<T> extends StateDescriptor<ValueState<T>> {
    final Serde<T> serde;

    public Value(String name, Serde<T> serde) {
      super(name);
      this.serde = Objects.requireNonNull(serde, "serde");
    }
  }

  /** A list per key; {@code add} appends without reading. */
  public static final class List<T> extends StateDescriptor<ListState<T>> {
    final Serde<T> serde;

    public List(String name, Serde<T> serde) {
      super(name);
      this.serde = Objects.requireNonNull(serde, "serde");
    }
  }

  /** A map per key, iterated in the byte order of its encoded keys. */
  public static final class Map<K, V> extends StateDescriptor<MapState<K, V>> {
    final Serde<K> keySerde;
    final Serde<V> valueSerde;

    public Map(String name, Serde<K> keySerde, Serde<V> valueSerde) {
      super(name);
      this.keySerde = Objects.requireNonNull(keySerde, "keySerde");
      this.valueSerde = Objects.requireNonNull(valueSerde, "valueSerde");
    }
  }

  /** A value per key that {@code add} folds new values into with a reduce function. */
  public static final class Reducing<T> extends StateDescriptor<ReducingState<T>> {
    final Serde<T> serde;
    final io.stratus.runtime.functions.ReduceFunction<T> reduce;

    public Reducing(String name, io.stratus.runtime.functions.ReduceFunction<T> reduce,
        Serde<T> serde) {
      super(name);
      this.reduce = Objects.requireNonNull(reduce, "reduce");
      this.serde = Objects.requireNonNull(serde, "serde");
    }
  }

  /** An accumulator per key that {@code add} feeds; {@code get} returns its result. */
  public static final class Aggregating<IN, ACC, OUT>
      extends StateDescriptor<AggregatingState<IN, OUT>> {
    final Aggregator<IN, ACC, OUT> aggregator;
    final Serde<ACC> accumulatorSerde;

    public Aggregating(String name, Aggregator<IN, ACC, OUT> aggregator,
        Serde<ACC> accumulatorSerde) {
      super(name);
      this.aggregator = Objects.requireNonNull(aggregator, "aggregator");
      this.accumulatorSerde = Objects.requireNonNull(accumulatorSerde, "accumulatorSerde");
    }
  }
}
