package io.stratus.runtime.api;

import io.stratus.runtime.functions.FilterFunction;
import io.stratus.runtime.functions.FlatMapFunction;
import io.stratus.runtime.functions.KeySelector;
import io.stratus.runtime.functions.MapFunction;
import io.stratus.runtime.functions.ProcessFunction;
import io.stratus.runtime.graph.Partitioning;
import io.stratus.runtime.graph.Transformation;
import io.stratus.runtime.serde.Serde;
import io.stratus.runtime.sink.Sink;
import java.util.ArrayList;
import java.util.List;

/**
 * A stream of records in a job being built, as Flink's {@code DataStream}. Each operation adds
 * an operator fed by this stream, so calling two operations on one stream branches it (each
 * sees every record); {@link #union} merges streams of one type. The partitioning methods
 * ({@link #keyBy}, {@link #rebalance}, {@link #shuffle}, {@link #broadcast}, {@link #forward})
 * say how the next operator's tasks receive the records.
 *
 * <p>Operators whose input comes forward from one operator at the same parallelism run chained
 * in its task and receive references; every other edge carries the records as bytes of their
 * serde, which is derived from the function's type arguments (records, enums, primitives,
 * strings, lists and maps) or declared with {@link #returns}. A lambda keeps no type
 * arguments: after one, a stream that crosses tasks needs {@code returns}.
 *
 * <p>Where Stratus differs from Flink: {@link #setParallelism}, {@link #name} and
 * {@link #returns} are on every stream of one operator, not on a separate operator type; an
 * operator without a parallelism of its own takes its input's (or the job's, when its inputs
 * differ), rather than always the job's.
 *
 * @param <T> the records
 */
public class DataStream<T> {

  /**
   * One producer of the stream and how its records reach the next operator.
   *
   * @param node         the producing operator's id
   * @param partitioning how its tasks hand records to the next operator's
   */
  record Input(int node, Partitioning partitioning) {}

  final StreamEnvironment env;
  final List<Input> inputs;

  DataStream(StreamEnvironment env, int node) {
    this(env, List.of(new Input(node, new Partitioning.Default())));
  }

  DataStream(StreamEnvironment env, List<Input> inputs) {
    this.env = env;
    this.inputs = List.copyOf(inputs);
  }

  @SuppressWarnings("unchecked")
  private Serde<T> serde() {
    return (Serde<T>) env.outputSerde(inputs.get(0).node());
  }

  public <R> DataStream<R> map(MapFunction<T, R> function) {
    return new DataStream<>(env, env.add(id -> new Transformation.MapNode(id, "map", function,
        0), inputs, OutputTypes.serdeOf(function, MapFunction.class, 1)));
  }

  public DataStream<T> filter(FilterFunction<T> function) {
    return new DataStream<>(env, env.add(id -> new Transformation.FilterNode(id, "filter",
        function, 0), inputs, serde()));
  }

  public <R> DataStream<R> flatMap(FlatMapFunction<T, R> function) {
    return new DataStream<>(env, env.add(id -> new Transformation.FlatMapNode(id, "flatMap",
        function, 0), inputs, OutputTypes.serdeOf(function, FlatMapFunction.class, 1)));
  }

  /** A non-keyed operator with {@code open} and {@code close}; see {@link ProcessFunction}. */
  public <R> DataStream<R> process(ProcessFunction<T, R> function) {
    return new DataStream<>(env, env.add(id -> new Transformation.ProcessNode(id, "process",
        function, 0), inputs, OutputTypes.serdeOf(function, ProcessFunction.class, 1)));
  }

  /** This stream and {@code others} as one: the next operator takes the records of all. */
  @SafeVarargs
  public final DataStream<T> union(DataStream<T>... others) {
    List<Input> all = new ArrayList<>(inputs);
    for (DataStream<T> other : others) {
      if (other.env != env) {
        throw new IllegalArgumentException("union of streams of two environments");
      }
      all.addAll(other.inputs);
    }
    return new DataStream<>(env, all);
  }

  /**
   * Partitions by key. The key's bytes (from {@code keySerde}) decide its key group, so the
   * serde must be deterministic; records of one key go to one task, in order.
   */
  public <K> KeyedStream<K, T> keyBy(KeySelector<T, K> selector, Serde<K> keySerde) {
    return new KeyedStream<>(env, partitioned(new Partitioning.Hash(selector, keySerde)),
        keySerde);
  }

  /** The next operator's tasks take the records round robin. */
  public DataStream<T> rebalance() {
    return new DataStream<>(env, partitioned(new Partitioning.Rebalance()));
  }

  /** The next operator's tasks take the records uniformly at random. */
  public DataStream<T> shuffle() {
    return new DataStream<>(env, partitioned(new Partitioning.Shuffle()));
  }

  /** Every task of the next operator takes every record. */
  public DataStream<T> broadcast() {
    return new DataStream<>(env, partitioned(new Partitioning.Broadcast()));
  }

  /** Task i feeds task i of the next operator, which must have the same parallelism. */
  public DataStream<T> forward() {
    return new DataStream<>(env, partitioned(new Partitioning.Forward()));
  }

  private List<Input> partitioned(Partitioning partitioning) {
    return inputs.stream().map(i -> new Input(i.node(), partitioning)).toList();
  }

  /** Declares the records' serde (as Flink's {@code returns}): needed after a lambda. */
  public DataStream<T> returns(Serde<T> serde) {
    for (Input i : inputs) {
      env.declareOutput(i.node(), serde);
    }
    return this;
  }

  /** The parallelism of the operator that produces this stream. */
  public DataStream<T> setParallelism(int parallelism) {
    if (parallelism < 1) {
      throw new IllegalArgumentException("parallelism must be >= 1, was " + parallelism);
    }
    Transformation t = producer("setParallelism");
    if (t instanceof Transformation.SourceNode) {
      throw new IllegalArgumentException("a source's parallelism is set in fromSource");
    }
    env.replace(t.withParallelism(parallelism));
    return this;
  }

  /**
   * The name of the operator that produces this stream, in messages and the job's graph. Not
   * for sources: a source's name is its identity in checkpoints, given in {@code fromSource}.
   */
  public DataStream<T> name(String name) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("an operator's name must not be blank");
    }
    Transformation t = producer("name");
    if (t instanceof Transformation.SourceNode) {
      throw new IllegalArgumentException("a source's name identifies its offsets in "
          + "checkpoints: it is given in fromSource, not renamed");
    }
    env.replace(t.withName(name));
    return this;
  }

  private Transformation producer(String what) {
    if (inputs.size() != 1) {
      throw new IllegalArgumentException(what + " applies to one operator's stream, not to a "
          + "union of " + inputs.size());
    }
    return env.node(inputs.get(0).node());
  }

  /** Ends this branch in {@code sink}, named {@code sink} (then {@code sink-2}, ...). */
  public void sinkTo(Sink<T> sink) {
    sinkTo(sink, env.nextSinkName());
  }

  /** Ends this branch in {@code sink}; sinks of a job need distinct names, without '|'. */
  public void sinkTo(Sink<T> sink, String name) {
    if (name == null || name.isBlank() || name.contains("|")) {
      throw new IllegalArgumentException("a sink needs a name without '|' (its staged output "
          + "is routed by it), was '" + name + "'");
    }
    env.add(id -> new Transformation.SinkNode(id, name, sink, 0), inputs, null);
  }
}
