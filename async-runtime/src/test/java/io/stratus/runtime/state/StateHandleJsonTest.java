package io.stratus.runtime.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.stratus.store.keygroup.KeyGroupRange;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A handle as checkpoint metadata holds it, with and without its key groups with timers. */
class StateHandleJsonTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static final StateHandle HANDLE = new StateHandle("disaggregated", "job/op/0-a1", 7,
      "versions/job/op/0-a1/7.json", KeyGroupRange.of(0, 63), 128, List.of("sst/a.sst"));

  @Test
  void keyGroupsWithTimersRoundTrip() throws Exception {
    StateHandle listed = HANDLE.withTimerKeyGroups(List.of(KeyGroupRange.of(0, 5),
        KeyGroupRange.of(9, 9)));
    String json = JSON.writeValueAsString(listed);
    assertEquals(listed, JSON.readValue(json, StateHandle.class), json);
  }

  /** Metadata written before handles listed them restores through the timer markers. */
  @Test
  void aHandleWithoutTheListReadsAsNotSaying() throws Exception {
    String json = JSON.writeValueAsString(HANDLE);
    assertFalse(json.contains("timerKeyGroups"), json);
    StateHandle read = JSON.readValue("{\"kind\":\"disaggregated\",\"storeId\":\"s\","
        + "\"version\":1,\"manifestKey\":\"m\",\"keyGroups\":{\"start\":0,\"end\":1},"
        + "\"maxParallelism\":128,\"files\":[]}", StateHandle.class);
    assertNull(read.timerKeyGroups());
    assertEquals(HANDLE, JSON.readValue(json, StateHandle.class));
  }

  /** An empty list says "no timers", which differs from not saying. */
  @Test
  void anEmptyListIsKept() throws Exception {
    StateHandle none = HANDLE.withTimerKeyGroups(List.of());
    assertEquals(List.of(), JSON.readValue(JSON.writeValueAsString(none), StateHandle.class)
        .timerKeyGroups());
  }
}
