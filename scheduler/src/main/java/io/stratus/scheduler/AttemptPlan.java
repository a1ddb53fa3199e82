package io.stratus.scheduler;

import io.stratus.runtime.execution.JobTopology;
import io.stratus.runtime.execution.TaskSpec;
import io.stratus.runtime.graph.Transformation;
import io.stratus.runtime.state.HotBlocks;
import io.stratus.runtime.state.StateHandle;
import io.stratus.store.keygroup.KeyGroupRange;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One attempt of a job, as the coordinator deploys it: the job's topology at the attempt's
 * parallelism, every task with where it starts from (its source's offset, its keyed state's
 * handles and the blocks to warm first, all from the restore point) and the worker that runs
 * it. Immutable; a new attempt gets a new plan.
 */
final class AttemptPlan {

  /** The plan before the first attempt is deployed: no tasks. */
  static final AttemptPlan NONE = new AttemptPlan(null, Map.of(), Map.of());

  /**
   * The hottest blocks a keyed task of the restore point's attempt reported with its ack:
   * what the next owners of its key groups warm first.
   *
   * @param uid       the keyed operator's uid
   * @param keyGroups the task's key groups
   * @param blocks    its hottest blocks
   */
  record HandedOver(String uid, KeyGroupRange keyGroups, HotBlocks blocks) {}

  private final JobTopology topology;
  private final Map<String, TaskSpec> specs;
  private final Map<String, String> placement;

  private AttemptPlan(JobTopology topology, Map<String, TaskSpec> specs,
      Map<String, String> placement) {
    this.topology = topology;
    this.specs = specs;
    this.placement = placement;
  }

  /**
   * Plans attempt {@code attempt} of {@code definition} at {@code parallelism} (keyed operators
   * by uid) on {@code workers}, starting from {@code restoreFrom} (null: from the beginning).
   *
   * <p>Placement moves as little as it can from {@code previous}: a task that is the same as
   * one of the previous attempt (same vertex, subtask, parallelism and key groups) stays on its
   * worker if that worker is in {@code workers}, where its worker's cache holds its blocks and
   * its code is warm (a recovery moves only the lost worker's tasks, a drain only the drained
   * worker's). Every other task goes to the worker with the fewest tasks of the attempt; among
   * those, a keyed task prefers the one whose previous tasks held most of its key groups.
   *
   * @throws IllegalArgumentException naming the mismatch when the restore point does not fit
   *         the job (another backend, a source whose parallelism changed, unnamed splits of a
   *         job that now has several sources) or the graph cannot run at that parallelism
   */
  static AttemptPlan of(JobDefinition definition, Map<String, Integer> parallelism, int attempt,
      CheckpointMetadata restoreFrom, Collection<HandedOver> handedOver, List<String> workers,
      AttemptPlan previous) {
    JobTopology topology = new JobTopology(definition.graph(), definition.runtime(),
        parallelism);
    List<TaskSpec> tasks = restoreFrom == null ? topology.tasks(attempt)
        : withRestore(definition, topology, topology.tasks(attempt), restoreFrom, handedOver);
    Map<String, TaskSpec> specs = new LinkedHashMap<>();
    for (TaskSpec t : tasks) {
      specs.put(t.taskId(), t);
    }
    return new AttemptPlan(topology, Collections.unmodifiableMap(specs),
        Collections.unmodifiableMap(place(tasks, workers, previous)));
  }

  private static Map<String, String> place(List<TaskSpec> tasks, List<String> workers,
      AttemptPlan previous) {
    Map<String, Integer> load = new LinkedHashMap<>();
    for (String w : workers) {
      load.put(w, 0);
    }
    Map<String, String> placed = new HashMap<>();
    for (TaskSpec t : tasks) {
      TaskSpec before = previous.specs.get(t.taskId());
      String worker = previous.placement.get(t.taskId());
      if (before != null && load.containsKey(worker) && before.parallelism() == t.parallelism()
          && Objects.equals(before.keyGroups(), t.keyGroups())) {
        placed.put(t.taskId(), worker);
        load.merge(worker, 1, Integer::sum);
      }
    }
    for (TaskSpec t : tasks) {
      if (placed.containsKey(t.taskId())) {
        continue;
      }
      String best = null;
      for (String w : workers) {
        if (best == null || load.get(w) < load.get(best) || (load.get(w).equals(load.get(best))
            && previous.keyGroupsHeldOn(w, t) > previous.keyGroupsHeldOn(best, t))) {
          best = w;
        }
      }
      placed.put(t.taskId(), best);
      load.merge(best, 1, Integer::sum);
    }
    Map<String, String> inOrder = new LinkedHashMap<>();
    for (TaskSpec t : tasks) {
      inOrder.put(t.taskId(), placed.get(t.taskId()));
    }
    return inOrder;
  }

  /** Key groups of {@code task}'s vertex that tasks of this plan on {@code worker} hold. */
  private int keyGroupsHeldOn(String worker, TaskSpec task) {
    if (task.keyGroups() == null) {
      return 0;
    }
    int held = 0;
    for (Map.Entry<String, String> e : placement.entrySet()) {
      TaskSpec s = specs.get(e.getKey());
      if (e.getValue().equals(worker) && s.vertex() == task.vertex() && s.keyGroups() != null) {
        held += s.keyGroups().intersect(task.keyGroups()).size();
      }
    }
    return held;
  }

  private static List<TaskSpec> withRestore(JobDefinition definition, JobTopology topology,
      List<TaskSpec> fresh, CheckpointMetadata restoreFrom, Collection<HandedOver> handedOver) {
    long sources = topology.vertices().stream()
        .filter(v -> topology.sourceHead(v.index()) != null).count();
    if (sources > 1 && restoreFrom.sources().stream().anyMatch(s -> s.source() == null)) {
      throw new IllegalArgumentException(restoreFrom.kind() + " " + restoreFrom.checkpointId()
          + " was taken when the job had one source (its splits carry no source name); the "
          + "job now has " + sources + ", so which one its offsets belong to is unknown");
    }
    List<TaskSpec> out = new ArrayList<>();
    for (TaskSpec t : fresh) {
      Transformation.SourceNode source = topology.sourceHead(t.vertex());
      Transformation.KeyedProcessNode keyed = topology.keyedHead(t.vertex());
      if (source != null) {
        out.add(new TaskSpec(t.job(), t.attempt(), t.vertex(), t.subtask(), t.parallelism(),
            null, positionOf(source, t, restoreFrom), List.of(), null));
      } else if (keyed != null) {
        if (!restoreFrom.backend().equals(definition.runtime().backend())) {
          throw new IllegalArgumentException(restoreFrom.kind() + " "
              + restoreFrom.checkpointId() + " holds " + restoreFrom.backend()
              + " state; the job runs the " + definition.runtime().backend() + " backend");
        }
        CheckpointMetadata.Operator op = restoreFrom.operator(keyed.uid());
        List<StateHandle> handles = new ArrayList<>();
        if (op != null) {
          for (CheckpointMetadata.TaskState s : op.tasks()) {
            if (s.keyGroups().overlaps(t.keyGroups())) {
              handles.add(s.state());
            }
          }
        }
        // The store keeps only the blocks of its own key groups. A task that takes over the
        // ranges of several old ones gets up to twice one task's share, the hottest of each
        // first; its worker's warm-up budget bounds what it loads.
        List<HotBlocks> warm = new ArrayList<>();
        for (HandedOver h : handedOver) {
          if (h.uid().equals(keyed.uid()) && h.keyGroups().overlaps(t.keyGroups())) {
            warm.add(h.blocks());
          }
        }
        out.add(new TaskSpec(t.job(), t.attempt(), t.vertex(), t.subtask(), t.parallelism(),
            t.keyGroups(), null, handles, HotBlocks.union(warm,
                2 * definition.runtime().storeOptions().handoverBlocks())));
      } else {
        out.add(t);
      }
    }
    return out;
  }

  /**
   * Where source task {@code t} resumes: its own split's position, or for a rescalable source
   * every split's (each reader picks its own); null if the checkpoint has none of them.
   */
  private static Map<String, Long> positionOf(Transformation.SourceNode source, TaskSpec t,
      CheckpointMetadata restoreFrom) {
    Map<String, Long> position = null;
    for (CheckpointMetadata.SourceSplit split : restoreFrom.splitsOf(source.name())) {
      if (source.source().rescalable()) {
        position = position == null ? new HashMap<>() : position;
        for (Map.Entry<String, Long> e : split.position().entrySet()) {
          if (position.put(e.getKey(), e.getValue()) != null) {
            throw new IllegalArgumentException("source '" + source.name() + "' has split '"
                + e.getKey() + "' in two tasks of " + restoreFrom.kind() + " "
                + restoreFrom.checkpointId() + "; a rescalable source's split is read by one "
                + "task");
          }
        }
        continue;
      }
      if (split.parallelism() != t.parallelism()) {
        throw new IllegalArgumentException("source '" + source.name() + "' had parallelism "
            + split.parallelism() + " in " + restoreFrom.kind() + " "
            + restoreFrom.checkpointId() + ", now " + t.parallelism()
            + "; its parallelism cannot change (the source is not rescalable)");
      }
      if (split.subtask() == t.subtask()) {
        position = split.position();
      }
    }
    return position;
  }

  /** The topology, or null for {@link #NONE}. */
  JobTopology topology() {
    return topology;
  }

  /** Every task of the attempt by task id. */
  Map<String, TaskSpec> specs() {
    return specs;
  }

  TaskSpec spec(String task) {
    return specs.get(task);
  }

  /** The worker of every task, by task id, in deploy order. */
  Map<String, String> placement() {
    return placement;
  }

  String workerOf(String task) {
    return placement.get(task);
  }

  boolean placedOn(String worker) {
    return placement.containsValue(worker);
  }

  /** The tasks of each worker, in deploy order. */
  Map<String, List<TaskSpec>> tasksByWorker() {
    Map<String, List<TaskSpec>> out = new LinkedHashMap<>();
    placement.forEach((task, worker) ->
        out.computeIfAbsent(worker, w -> new ArrayList<>()).add(specs.get(task)));
    return out;
  }

  /** The ids of the tasks whose chain starts with a source. */
  List<String> sourceTasks() {
    List<String> out = new ArrayList<>();
    for (String task : placement.keySet()) {
      if (topology.sourceHead(specs.get(task).vertex()) != null) {
        out.add(task);
      }
    }
    return out;
  }

  boolean isSource(String task) {
    TaskSpec spec = specs.get(task);
    return spec != null && topology.sourceHead(spec.vertex()) != null;
  }
}
