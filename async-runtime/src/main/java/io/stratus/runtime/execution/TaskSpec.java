package io.stratus.runtime.execution;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.stratus.runtime.state.HotBlocks;
import io.stratus.runtime.state.StateHandle;
import io.stratus.store.keygroup.KeyGroupRange;
import java.util.List;
import java.util.Map;

/**
 * One task of one attempt of a job, as the coordinator deploys it to a worker (JSON on the
 * event bus): which chain of operators (vertex of the {@link JobTopology}) and subtask, its key
 * groups, and where it starts from.
 *
 * @param job          the job's name (application mode: every worker knows the job's code)
 * @param attempt      the attempt number; every restart deploys a new attempt
 * @param vertex       the vertex of the job's topology the task runs
 * @param subtask      index among the operator's tasks
 * @param parallelism  the operator's tasks
 * @param keyGroups    a keyed task's key groups; null for other tasks
 * @param sourcePosition where a source task resumes ({@link io.stratus.runtime.source.SourceReader#position()});
 *                     null to start at the beginning
 * @param restore      snapshot handles that cover a keyed task's key groups; empty: fresh state
 * @param warmFirst    blocks the previous owners of those key groups read most: the restored
 *                     state loads them into the cache before anything else
 */
public record TaskSpec(String job, int attempt, int vertex, int subtask, int parallelism,
    KeyGroupRange keyGroups, Map<String, Long> sourcePosition, List<StateHandle> restore,
    HotBlocks warmFirst) {

  @JsonCreator
  public TaskSpec(@JsonProperty("job") String job, @JsonProperty("attempt") int attempt,
      @JsonProperty("vertex") int vertex, @JsonProperty("subtask") int subtask,
      @JsonProperty("parallelism") int parallelism,
      @JsonProperty("keyGroups") KeyGroupRange keyGroups,
      @JsonProperty("sourcePosition") Map<String, Long> sourcePosition,
      @JsonProperty("restore") List<StateHandle> restore,
      @JsonProperty("warmFirst") HotBlocks warmFirst) {
    this.job = job;
    this.attempt = attempt;
    this.vertex = vertex;
    this.subtask = subtask;
    this.parallelism = parallelism;
    this.keyGroups = keyGroups;
    this.sourcePosition = sourcePosition == null ? null : Map.copyOf(sourcePosition);
    this.restore = restore == null ? List.of() : List.copyOf(restore);
    this.warmFirst = warmFirst == null ? HotBlocks.NONE : warmFirst;
  }

  /** A stable name: {@code <vertex>/<subtask>}. */
  @JsonIgnore
  public String taskId() {
    return vertex + "/" + subtask;
  }
}
