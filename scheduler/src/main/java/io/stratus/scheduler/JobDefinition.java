package io.stratus.scheduler;

import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.graph.JobGraph;
import java.util.Objects;

/**
 * A job as the coordinator runs it (application mode: the job's code is packaged with the
 * runtime, so every worker resolves the same definition by name).
 *
 * @param graph       the pipeline
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
}
