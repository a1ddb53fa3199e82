package io.stratus.runtime.graph;

import io.stratus.runtime.functions.FilterFunction;
import io.stratus.runtime.functions.FlatMapFunction;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.functions.MapFunction;
import io.stratus.runtime.functions.ProcessFunction;
import io.stratus.runtime.sink.Sink;
import io.stratus.runtime.source.Source;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A node of a job's graph, as the stream API records it: an operator with an id (its position
 * in the job), a name for messages and the JSON form, and a parallelism (0: the default, see
 * {@code JobTopology}).
 */
public sealed interface Transformation {

  int id();

  String name();

  /** Tasks, or 0 for the default. */
  int parallelism();

  /** The same node with another parallelism. */
  Transformation withParallelism(int value);

  /** The same node with another name. */
  Transformation withName(String value);

  /** Its kind in the job's JSON form. */
  default String kind() {
    return getClass().getSimpleName().replace("Node", "").toLowerCase();
  }

  /**
   * Where records enter; its name identifies its splits' offsets in checkpoints, so it is
   * unique in the job.
   *
   * @param sideOutputs the dead-letter sink of records the reader cannot read, under
   *                    {@link io.stratus.runtime.sink.DeadLetterSink#TAG_ID}, if the job set one
   */
  record SourceNode(int id, String name, Source<?> source, WatermarkStrategy watermarks,
      int parallelism, Map<String, Sink<?>> sideOutputs) implements Transformation {

    public SourceNode(int id, String name, Source<?> source, WatermarkStrategy watermarks,
        int parallelism) {
      this(id, name, source, watermarks, parallelism, new LinkedHashMap<>());
    }

    @Override
    public SourceNode withParallelism(int value) {
      return new SourceNode(id, name, source, watermarks, value, sideOutputs);
    }

    @Override
    public SourceNode withName(String value) {
      return new SourceNode(id, value, source, watermarks, parallelism, sideOutputs);
    }
  }

  record MapNode(int id, String name, MapFunction<?, ?> function, int parallelism)
      implements Transformation {
    @Override
    public MapNode withParallelism(int value) {
      return new MapNode(id, name, function, value);
    }

    @Override
    public MapNode withName(String value) {
      return new MapNode(id, value, function, parallelism);
    }
  }

  record FilterNode(int id, String name, FilterFunction<?> function, int parallelism)
      implements Transformation {
    @Override
    public FilterNode withParallelism(int value) {
      return new FilterNode(id, name, function, value);
    }

    @Override
    public FilterNode withName(String value) {
      return new FilterNode(id, value, function, parallelism);
    }
  }

  record FlatMapNode(int id, String name, FlatMapFunction<?, ?> function, int parallelism)
      implements Transformation {
    @Override
    public FlatMapNode withParallelism(int value) {
      return new FlatMapNode(id, name, function, value);
    }

    @Override
    public FlatMapNode withName(String value) {
      return new FlatMapNode(id, value, function, parallelism);
    }
  }

  /** A non-keyed operator with a lifecycle ({@code open}, {@code close}). */
  record ProcessNode(int id, String name, ProcessFunction<?, ?> function, int parallelism)
      implements Transformation {
    @Override
    public ProcessNode withParallelism(int value) {
      return new ProcessNode(id, name, function, value);
    }

    @Override
    public ProcessNode withName(String value) {
      return new ProcessNode(id, value, function, parallelism);
    }
  }

  /**
   * A keyed operator; every input edge partitions by key ({@code keyBy}).
   *
   * @param uid         stable identity of the operator's state across job versions; what a
   *                    rescale names
   * @param sideOutputs the sink of each side output the job takes, by tag id (filled in by
   *                    {@code sideOutputTo} after the node is added)
   */
  record KeyedProcessNode(int id, String name, String uid, KeyedProcessFunction<?, ?, ?> function,
      int parallelism, Map<String, Sink<?>> sideOutputs) implements Transformation {
    @Override
    public KeyedProcessNode withParallelism(int value) {
      return new KeyedProcessNode(id, name, uid, function, value, sideOutputs);
    }

    @Override
    public KeyedProcessNode withName(String value) {
      return new KeyedProcessNode(id, value, uid, function, parallelism, sideOutputs);
    }

    @Override
    public String kind() {
      return "keyed-process";
    }
  }

  /** Where records leave; its name routes its staged output to it at commit, so it is unique. */
  record SinkNode(int id, String name, Sink<?> sink, int parallelism) implements Transformation {
    @Override
    public SinkNode withParallelism(int value) {
      return new SinkNode(id, name, sink, value);
    }

    @Override
    public SinkNode withName(String value) {
      return new SinkNode(id, value, sink, parallelism);
    }
  }
}
