package io.stratus.scheduler;

import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.graph.JobGraph;
import io.stratus.runtime.graph.Transformation;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A job as the coordinator runs it (application mode: the job's code is packaged with the
 * runtime, so every worker resolves the same definition by name).
 *
 * @param graph       the operators and edges
 * @param runtime     parallelism, backend, execution limits
 * @param checkpoints checkpoint schedule and retention
 * @param restarts    what to do when a task fails or a worker is lost
 */
public record JobDefinition(JobGraph graph, RuntimeConfig runtime, CheckpointConfig checkpoints,
    RestartStrategy restarts) {

  public JobDefinition {
    Objects.requireNonNull(graph, "graph");
    Objects.requireNonNull(runtime, "runtime");
    Objects.requireNonNull(checkpoints, "checkpoints");
    Objects.requireNonNull(restarts, "restarts");
  }

  public String name() {
    return graph.name();
  }

  /**
   * Checks a parallelism per keyed operator uid against this job.
   *
   * @throws IllegalArgumentException naming an unknown operator or a parallelism outside
   *         1..maxParallelism
   */
  public void checkParallelism(Map<String, Integer> target) {
    List<String> keyed = keyedOperators();
    int max = runtime.maxParallelism();
    for (Map.Entry<String, Integer> e : target.entrySet()) {
      if (!keyed.contains(e.getKey())) {
        throw new IllegalArgumentException("job " + name() + " has no keyed operator '"
            + e.getKey() + "'; keyed operators: " + keyed);
      }
      if (e.getValue() == null || e.getValue() < 1 || e.getValue() > max) {
        throw new IllegalArgumentException("parallelism " + e.getValue() + " of operator '"
            + e.getKey() + "' is outside 1.." + max + " (the job's maxParallelism)");
      }
    }
  }

  /** The uids of the job's keyed operators, in pipeline order: what a rescale can change. */
  public List<String> keyedOperators() {
    return graph.keyedOperators().stream().map(Transformation.KeyedProcessNode::uid).toList();
  }
}
