package io.stratus.runtime.execution;

import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.graph.JobGraph;
import io.stratus.runtime.graph.Transformation;
import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.keygroup.KeyGroups;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A job graph cut into segments (the source with its chained steps, then each keyed operator
 * with its chained steps) and the parallelism of each: the execution graph. Records cross
 * segments by key group; within a segment they stay in one task.
 */
public final class JobTopology {

  private final JobGraph graph;
  private final List<List<Transformation>> segments;
  private final int[] parallelism;
  private final int maxParallelism;

  /**
   * @param overrides parallelism per operator uid, replacing the graph's and the default
   */
  public JobTopology(JobGraph graph, RuntimeConfig config, Map<String, Integer> overrides) {
    this.graph = graph;
    this.maxParallelism = config.maxParallelism();
    this.segments = new ArrayList<>();
    List<Transformation> current = new ArrayList<>();
    for (Transformation t : graph.pipeline()) {
      if (t instanceof Transformation.KeyedProcessNode) {
        segments.add(current);
        current = new ArrayList<>();
      }
      current.add(t);
    }
    segments.add(current);
    parallelism = new int[segments.size()];
    parallelism[0] = Math.max(1, ((Transformation.SourceNode) segments.get(0).get(0))
        .parallelism());
    for (int s = 1; s < segments.size(); s++) {
      Transformation.KeyedProcessNode node = keyedNode(s);
      int p = overrides.getOrDefault(node.uid(),
          node.parallelism() > 0 ? node.parallelism() : config.parallelism());
      KeyGroups.checkParallelism(maxParallelism, p);
      parallelism[s] = p;
    }
  }

  public JobGraph graph() {
    return graph;
  }

  public int segmentCount() {
    return segments.size();
  }

  List<Transformation> segment(int s) {
    return segments.get(s);
  }

  public int parallelism(int segment) {
    return parallelism[segment];
  }

  public int maxParallelism() {
    return maxParallelism;
  }

  Transformation.KeyedProcessNode keyedNode(int segment) {
    return (Transformation.KeyedProcessNode) segments.get(segment).get(0);
  }

  /** The uid of keyed operator {@code segment} (1 and up). */
  public String operatorUid(int segment) {
    return keyedNode(segment).uid();
  }

  /** The keyBy that feeds segment {@code segment} (1 and up). */
  Transformation.KeyByNode keyByBefore(int segment) {
    List<Transformation> previous = segments.get(segment - 1);
    return (Transformation.KeyByNode) previous.get(previous.size() - 1);
  }

  /** Every task of an attempt, without restore information. */
  public List<TaskSpec> tasks(int attempt) {
    List<TaskSpec> out = new ArrayList<>();
    for (int s = 0; s < segments.size(); s++) {
      for (int i = 0; i < parallelism[s]; i++) {
        KeyGroupRange groups = s == 0 ? null
            : KeyGroupRange.forSubtask(maxParallelism, parallelism[s], i);
        out.add(new TaskSpec(graph.name(), attempt, s, i, parallelism[s], groups, null,
            List.of()));
      }
    }
    return out;
  }
}
