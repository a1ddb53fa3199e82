package io.stratus.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.cache.BlockKey;
import io.stratus.runtime.execution.TaskSpec;
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
        List.of(new CheckpointMetadata.SourceSplit("payments", 0, 1, 41)),
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
        handedOver, List.of("w1", "w2"));
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
      assertEquals(expected, t.warmFirst().blocks().keySet(), "task " + t.taskId());
      assertEquals(expected.size(), t.restore().size(), "handles of task " + t.taskId());
    }
    // The middle task of three spans both old ranges.
    assertEquals(3, keyed.get(1).warmFirst().keys().size());
  }

  @Test
  void sourcesResumeAtTheirOffsetAndTasksAreSpreadOverTheWorkers() {
    AttemptPlan plan = AttemptPlan.of(job(), Map.of(TotalsJob.OPERATOR, 2), 9, twoTasks(),
        List.of(), List.of("w1", "w2"));
    List<String> sources = plan.sourceTasks();
    assertEquals(1, sources.size());
    assertEquals(41L, plan.spec(sources.get(0)).sourceOffset());
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
        List.of("w1"));
    for (TaskSpec t : plan.specs().values()) {
      assertNull(t.sourceOffset());
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
            List.of("w1")));
    assertTrue(e.getMessage().contains("heap") && e.getMessage().contains("disaggregated"),
        e.getMessage());
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
