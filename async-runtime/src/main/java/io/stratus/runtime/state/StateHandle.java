package io.stratus.runtime.state;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.stratus.store.keygroup.KeyGroupRange;
import java.util.List;

/**
 * A pointer to a snapshot of one keyed backend, as a checkpoint records it: which backend wrote
 * it, the key groups it covers, the object that describes it (a version manifest for the
 * disaggregated store, a snapshot file for heap, a file list for RocksDB) and the objects it
 * references, for reference counting.
 *
 * @param kind        the backend that wrote it
 * @param storeId     the writing instance
 * @param version     the snapshot's number for that instance
 * @param manifestKey the object that describes the snapshot
 * @param keyGroups   the key groups covered
 * @param maxParallelism the key-group space
 * @param files       objects the snapshot references
 * @param timerKeyGroups the key groups that hold timers (or held some), as ranges; null where
 *                    the snapshot does not say (written before it was recorded): a restore
 *                    then looks for each key group's timer marker
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record StateHandle(String kind, String storeId, long version, String manifestKey,
    KeyGroupRange keyGroups, int maxParallelism, List<String> files,
    List<KeyGroupRange> timerKeyGroups) {

  @JsonCreator
  public StateHandle(@JsonProperty("kind") String kind, @JsonProperty("storeId") String storeId,
      @JsonProperty("version") long version, @JsonProperty("manifestKey") String manifestKey,
      @JsonProperty("keyGroups") KeyGroupRange keyGroups,
      @JsonProperty("maxParallelism") int maxParallelism,
      @JsonProperty("files") List<String> files,
      @JsonProperty("timerKeyGroups") List<KeyGroupRange> timerKeyGroups) {
    this.kind = kind;
    this.storeId = storeId;
    this.version = version;
    this.manifestKey = manifestKey;
    this.keyGroups = keyGroups;
    this.maxParallelism = maxParallelism;
    this.files = files == null ? List.of() : List.copyOf(files);
    this.timerKeyGroups = timerKeyGroups == null ? null : List.copyOf(timerKeyGroups);
  }

  /** A handle that does not say which key groups hold timers. */
  public StateHandle(String kind, String storeId, long version, String manifestKey,
      KeyGroupRange keyGroups, int maxParallelism, List<String> files) {
    this(kind, storeId, version, manifestKey, keyGroups, maxParallelism, files, null);
  }

  /** This handle, saying that {@code ranges} are the key groups that hold timers. */
  public StateHandle withTimerKeyGroups(List<KeyGroupRange> ranges) {
    return new StateHandle(kind, storeId, version, manifestKey, keyGroups, maxParallelism, files,
        ranges);
  }
}
