package io.stratus.scheduler;

import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.graph.JobGraph;
import io.stratus.runtime.graph.Transformation;
import java.util.ArrayList;
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
    List<String> rescalable = rescalableOperators();
    int max = runtime.maxParallelism();
    for (Map.Entry<String, Integer> e : target.entrySet()) {
      if (!rescalable.contains(e.getKey())) {
        throw new IllegalArgumentException("job " + name() + " has no keyed operator or "
            + "rescalable source '" + e.getKey() + "'; it rescales " + rescalable);
      }
      if (e.getValue() == null || e.getValue() < 1 || e.getValue() > max) {
        throw new IllegalArgumentException("parallelism " + e.getValue() + " of operator '"
            + e.getKey() + "' is outside 1.." + max + " (the job's maxParallelism)");
      }
    }
  }

  /**
   * What a rescale can change: the uids of the job's keyed operators and the names of its
   * rescalable sources, in the order the job added them.
   */
  public List<String> rescalableOperators() {
    List<String> out = new ArrayList<>();
    graph.keyedOperators().forEach(k -> out.add(k.uid()));
    graph.rescalableSources().forEach(s -> out.add(s.name()));
    return out;
  }
}
