package io.stratus.runtime.graph;

import io.stratus.runtime.functions.FilterFunction;
import io.stratus.runtime.functions.FlatMapFunction;
import io.stratus.runtime.functions.KeySelector;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.functions.MapFunction;
import io.stratus.runtime.serde.Serde;
import io.stratus.runtime.sink.Sink;
import io.stratus.runtime.source.Source;
import java.util.Map;

/** One step of a job's pipeline, as the stream API records it. */
public sealed interface Transformation {

  String name();

  /** Where records enter. */
  record SourceNode(String name, Source<?> source, WatermarkStrategy watermarks,
      int parallelism) implements Transformation {}

  record MapNode(String name, MapFunction<?, ?> function) implements Transformation {}

  record FilterNode(String name, FilterFunction<?> function) implements Transformation {}

  record FlatMapNode(String name, FlatMapFunction<?, ?> function) implements Transformation {}

  /** Repartitions by key group; always followed by a {@link KeyedProcessNode}. */
  record KeyByNode(String name, KeySelector<?, ?> selector, Serde<?> keySerde)
      implements Transformation {}

  /**
   * A keyed operator.
   *
   * @param uid         stable identity of the operator's state across job versions
   * @param parallelism tasks, or 0 for the job default
   * @param sideOutputs the sink of each side output the job takes, by tag id (filled in by
   *                    {@code sideOutputTo} after the node is added)
   */
  record KeyedProcessNode(String name, String uid, KeyedProcessFunction<?, ?, ?> function,
      int parallelism, Map<String, Sink<?>> sideOutputs) implements Transformation {}

  record SinkNode(String name, Sink<?> sink) implements Transformation {}
}
