package io.stratus.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.cache.BlockKey;
import io.stratus.runtime.execution.TaskSpec;
import io.stratus.runtime.source.OffsetReader;
import io.stratus.runtime.state.DisaggregatedBackend;
import io.stratus.runtime.state.HotBlocks;
import io.stratus.runtime.state.StateHandle;
import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An attempt's plan from a restore point: sources resume at their offsets, keyed tasks get the
 * handles and the handed-over hot blocks of the old tasks whose key groups overlap theirs, and
 * the tasks are spread over the workers.
 */
class AttemptPlanTest {

  private static final int MAX_PARALLELISM = 64;

  @TempDir
  Path dir;

  private LocalDirectoryObjectStore objects;

  @BeforeEach
  void open() {
    objects = new LocalDirectoryObjectStore(dir.resolve("bucket"));
  }

  @AfterEach
  void close() {
    objects.close();
  }

  private JobDefinition job() {
    return TotalsJob.definition("plan", objects, "out", dir.resolve("local"), 2, 100,
        CheckpointConfig.defaults(), RestartStrategy.none());
  }

  /** Checkpoint 7 of the job at parallelism 2: two keyed tasks of 32 key groups each. */
  private static CheckpointMetadata twoTasks() {
    List<CheckpointMetadata.TaskState> tasks = List.of(
        new CheckpointMetadata.TaskState(0, KeyGroupRange.of(0, 31), handle("s0", 0, 31)),
        new CheckpointMetadata.TaskState(1, KeyGroupRange.of(32, 63), handle("s1", 32, 63)));
    return new CheckpointMetadata("plan", 7, CheckpointMetadata.CHECKPOINT, 0,
        DisaggregatedBackend.KIND, MAX_PARALLELISM,
        List.of(new CheckpointMetadata.SourceSplit("payments", 0, 1,
            Map.of(OffsetReader.SPLIT, 41L))),
        List.of(new CheckpointMetadata.Operator(TotalsJob.OPERATOR, 2, tasks)), List.of());
  }

  private static StateHandle handle(String store, int first, int last) {
    return new StateHandle(DisaggregatedBackend.KIND, store, 1, store + "/manifest",
        KeyGroupRange.of(first, last), MAX_PARALLELISM, List.of(store + ".sst"));
  }

  private static HotBlocks hot(String file, long... offsets) {
    return HotBlocks.of(java.util.Arrays.stream(offsets)
        .mapToObj(o -> new BlockKey(file, o, 100)).toList());
  }

  private static List<TaskSpec> keyed(AttemptPlan plan) {
    return plan.specs().values().stream().filter(t -> t.keyGroups() != null).toList();
  }

  @Test
  void keyedTasksGetTheHotBlocksOfEveryOldTaskWhoseKeyGroupsOverlapTheirs() {
    List<AttemptPlan.HandedOver> handedOver = List.of(
        new AttemptPlan.HandedOver(TotalsJob.OPERATOR, KeyGroupRange.of(0, 31),
            hot("s0.sst", 0, 100)),
        new AttemptPlan.HandedOver(TotalsJob.OPERATOR, KeyGroupRange.of(32, 63),
            hot("s1.sst", 500)),
        new AttemptPlan.HandedOver("another-operator", KeyGroupRange.of(0, 63),
            hot("other.sst", 0)));
    AttemptPlan plan = AttemptPlan.of(job(), Map.of(TotalsJob.OPERATOR, 3), 9, twoTasks(),
        handedOver, List.of("w1", "w2"), AttemptPlan.NONE);
    List<TaskSpec> keyed = keyed(plan);
    assertEquals(3, keyed.size());
    for (TaskSpec t : keyed) {
      Set<String> expected = new HashSet<>();
      if (t.keyGroups().overlaps(KeyGroupRange.of(0, 31))) {
        expected.add("s0.sst");
      }
      if (t.keyGroups().overlaps(KeyGroupRange.of(32, 63))) {
        expected.add("s1.sst");
      }
      assertEquals(expected, Set.copyOf(t.warmFirst().files()), "task " + t.taskId());
      assertEquals(expected.size(), t.restore().size(), "handles of task " + t.taskId());
    }
    // The middle task of three spans both old ranges: the hottest of each come first.
    assertEquals(List.of(new BlockKey("s0.sst", 0, 100), new BlockKey("s1.sst", 500, 100),
        new BlockKey("s0.sst", 100, 100)), keyed.get(1).warmFirst().keys());
  }

  @Test
  void sourcesResumeAtTheirOffsetAndTasksAreSpreadOverTheWorkers() {
    AttemptPlan plan = AttemptPlan.of(job(), Map.of(TotalsJob.OPERATOR, 2), 9, twoTasks(),
        List.of(), List.of("w1", "w2"), AttemptPlan.NONE);
    List<String> sources = plan.sourceTasks();
    assertEquals(1, sources.size());
    assertEquals(Map.of(OffsetReader.SPLIT, 41L), plan.spec(sources.get(0)).sourcePosition());
    assertTrue(plan.placedOn("w1") && plan.placedOn("w2"));
    assertEquals(Set.of("w1", "w2"), plan.tasksByWorker().keySet());
    assertEquals(plan.specs().size(), plan.tasksByWorker().values().stream()
        .mapToInt(List::size).sum());
    for (TaskSpec t : keyed(plan)) {
      assertTrue(t.warmFirst().isEmpty(), "no hot blocks were handed over");
      assertEquals(9, t.attempt());
    }
  }

  @Test
  void aFreshAttemptStartsFromNothing() {
    AttemptPlan plan = AttemptPlan.of(job(), Map.of(TotalsJob.OPERATOR, 2), 1, null, List.of(),
        List.of("w1"), AttemptPlan.NONE);
    for (TaskSpec t : plan.specs().values()) {
      assertNull(t.sourcePosition());
      assertTrue(t.restore().isEmpty());
      assertEquals("w1", plan.workerOf(t.taskId()));
    }
  }

  @Test
  void aRestorePointOfAnotherBackendIsRefusedNamingBoth() {
    CheckpointMetadata heap = twoTasks();
    CheckpointMetadata other = new CheckpointMetadata(heap.job(), heap.checkpointId(),
        heap.kind(), heap.timestamp(), "heap", heap.maxParallelism(), heap.sources(),
        heap.operators(), heap.committed());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> AttemptPlan.of(job(), Map.of(TotalsJob.OPERATOR, 2), 2, other, List.of(),
            List.of("w1"), AttemptPlan.NONE));
    assertTrue(e.getMessage().contains("heap") && e.getMessage().contains("disaggregated"),
        e.getMessage());
  }

  @Test
  void aRecoveryMovesOnlyTheLostWorkersTasksAndToTheLeastLoadedWorker() {
    AttemptPlan first = AttemptPlan.of(job(), Map.of(TotalsJob.OPERATOR, 2), 1, null, List.of(),
        List.of("w1", "w2", "w3"), AttemptPlan.NONE);
    assertEquals(Set.of("w1", "w2", "w3"), Set.copyOf(first.placement().values()),
        "three tasks, three workers: one each");
    String lost = first.workerOf(keyed(first).get(0).taskId());
    List<String> left = new java.util.ArrayList<>(List.of("w1", "w2", "w3", "w4"));
    left.remove(lost);
    AttemptPlan next = AttemptPlan.of(job(), Map.of(TotalsJob.OPERATOR, 2), 2, twoTasks(),
        List.of(), left, first);
    for (String task : first.placement().keySet()) {
      if (!first.workerOf(task).equals(lost)) {
        assertEquals(first.workerOf(task), next.workerOf(task), task + " moved");
      } else {
        assertEquals("w4", next.workerOf(task), "the lost task goes to the idle worker");
      }
    }
  }

  @Test
  void aScaleOutUsesTheNewWorkerAndKeepsWhatDidNotChange() {
    AttemptPlan first = AttemptPlan.of(job(), Map.of(TotalsJob.OPERATOR, 2), 1, null, List.of(),
        List.of("w1", "w2"), AttemptPlan.NONE);
    AttemptPlan next = AttemptPlan.of(job(), Map.of(TotalsJob.OPERATOR, 3), 2, twoTasks(),
        List.of(), List.of("w1", "w2", "w3"), first);
    String source = first.sourceTasks().get(0);
    assertEquals(first.workerOf(source), next.workerOf(source), "the source did not change");
    Map<String, List<TaskSpec>> byWorker = next.tasksByWorker();
    assertEquals(Set.of("w1", "w2", "w3"), byWorker.keySet());
    for (List<TaskSpec> onOne : byWorker.values()) {
      assertTrue(onOne.size() <= 2, "unbalanced: " + byWorker);
    }
  }

  @Test
  void aRedeployAtTheSameParallelismMovesNothingButTheDrainedWorkersTasks() {
    AttemptPlan first = AttemptPlan.of(job(), Map.of(TotalsJob.OPERATOR, 2), 1, null, List.of(),
        List.of("w1", "w2", "w3"), AttemptPlan.NONE);
    AttemptPlan same = AttemptPlan.of(job(), Map.of(TotalsJob.OPERATOR, 2), 2, twoTasks(),
        List.of(), List.of("w1", "w2", "w3"), first);
    assertEquals(first.placement(), same.placement());
    AttemptPlan drained = AttemptPlan.of(job(), Map.of(TotalsJob.OPERATOR, 2), 3, twoTasks(),
        List.of(), List.of("w1", "w3"), same);
    assertTrue(!drained.placedOn("w2"));
    for (String task : same.placement().keySet()) {
      if (!same.workerOf(task).equals("w2")) {
        assertEquals(same.workerOf(task), drained.workerOf(task), task + " moved");
      }
    }
  }

  @Test
  void theUnionOfHotListsIsCappedAndInterleavedByRank() {
    HotBlocks a = hot("a.sst", 1, 2, 3, 4);
    HotBlocks b = hot("b.sst", 1, 2);
    assertEquals(List.of(new BlockKey("a.sst", 1, 100), new BlockKey("b.sst", 1, 100),
        new BlockKey("a.sst", 2, 100)), HotBlocks.union(List.of(a, b), 3).keys());
    assertEquals(a.keys(), HotBlocks.union(List.of(a, a), 100).keys(), "duplicates kept once");
    assertTrue(HotBlocks.union(List.of(), 10).isEmpty());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new HotBlocks(List.of("a.sst"), new long[] {1, 0, 100}));
    assertTrue(e.getMessage().contains("file 1 of 1"), e.getMessage());
  }

  @Test
  void hotBlocksSurviveTheirJsonForm() throws Exception {
    HotBlocks blocks = hot("a.sst", 0, 16384, 32768);
    com.fasterxml.jackson.databind.ObjectMapper json =
        new com.fasterxml.jackson.databind.ObjectMapper();
    HotBlocks back = json.readValue(json.writeValueAsString(blocks), HotBlocks.class);
    assertEquals(blocks.keys(), back.keys());
    assertEquals(HotBlocks.NONE.keys(), json.readValue("{}", HotBlocks.class).keys());
  }
}
