package io.stratus.runtime.state;

import com.fasterxml.jackson.annotation.JsonCreator;
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
 */
public record StateHandle(String kind, String storeId, long version, String manifestKey,
    KeyGroupRange keyGroups, int maxParallelism, List<String> files) {

  @JsonCreator
  public StateHandle(@JsonProperty("kind") String kind, @JsonProperty("storeId") String storeId,
      @JsonProperty("version") long version, @JsonProperty("manifestKey") String manifestKey,
      @JsonProperty("keyGroups") KeyGroupRange keyGroups,
      @JsonProperty("maxParallelism") int maxParallelism,
      @JsonProperty("files") List<String> files) {
    this.kind = kind;
    this.storeId = storeId;
    this.version = version;
    this.manifestKey = manifestKey;
    this.keyGroups = keyGroups;
    this.maxParallelism = maxParallelism;
    this.files = files == null ? List.of() : List.copyOf(files);
  }
}
