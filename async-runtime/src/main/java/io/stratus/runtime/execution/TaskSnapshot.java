package io.stratus.runtime.execution;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.stratus.runtime.state.HotBlocks;
import io.stratus.runtime.state.StateHandle;
import java.util.List;
import java.util.Map;

/**
 * What a task contributes to a checkpoint: a source's position, a keyed task's state handle, a
 * sink's staged output.
 *
 * @param sourcePosition where the source resumes; null for other tasks
 * @param state         the keyed backend's snapshot; null for sources
 * @param committables  staged sink output to commit when the checkpoint completes
 * @param uploadedBytes state bytes the task uploaded since its previous snapshot (its share of
 *                      the checkpoint's incremental size)
 * @param hotBlocks     the blocks of its state its worker's cache holds hottest, for the next
 *                      owner of its key groups; never written to the checkpoint's metadata
 * @param phases        how long the task spent on the checkpoint, phase by phase
 */
public record TaskSnapshot(Map<String, Long> sourcePosition, StateHandle state,
    List<String> committables, long uploadedBytes, HotBlocks hotBlocks, Phases phases) {

  /**
   * Where a task's time on a checkpoint went, in milliseconds (all zero for a source).
   *
   * @param alignMillis    from its first input's barrier until every open input's barrier
   * @param drainMillis    then until the records before the barrier had completed
   * @param snapshotMillis then until its snapshot and staged output were ready (the state's
   *                       last delta and manifest uploaded)
   */
  public record Phases(long alignMillis, long drainMillis, long snapshotMillis) {
    public static final Phases NONE = new Phases(0, 0, 0);
  }

  @JsonCreator
  public TaskSnapshot(@JsonProperty("sourcePosition") Map<String, Long> sourcePosition,
      @JsonProperty("state") StateHandle state,
      @JsonProperty("committables") List<String> committables,
      @JsonProperty("uploadedBytes") long uploadedBytes,
      @JsonProperty("hotBlocks") HotBlocks hotBlocks,
      @JsonProperty("phases") Phases phases) {
    this.sourcePosition = sourcePosition;
    this.state = state;
    this.committables = committables == null ? List.of() : List.copyOf(committables);
    this.uploadedBytes = uploadedBytes;
    this.hotBlocks = hotBlocks == null ? HotBlocks.NONE : hotBlocks;
    this.phases = phases == null ? Phases.NONE : phases;
  }
}
