package io.stratus.store.lsm;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.stratus.store.keygroup.KeyGroupRange;
import java.util.List;
import java.util.Objects;

/**
 * A pointer to a published version of a store: what a task reports when it acks a checkpoint and
 * what a store is restored from. Small by design: the version's file list lives in the manifest
 * object it points at; {@code files} repeats only the names, so that the coordinator can count
 * references without reading manifests.
 *
 * @param storeId        the store that published the version
 * @param version        its number, unique per store (a conditional write guarantees it)
 * @param manifestKey    the object that holds the version
 * @param keyGroups      the key groups the version covers
 * @param maxParallelism the key-group space it was written with
 * @param files          the SST objects the version references
 */
public record CheckpointHandle(String storeId, long version, String manifestKey,
    KeyGroupRange keyGroups, int maxParallelism, List<String> files) {

  @JsonCreator
  public CheckpointHandle(@JsonProperty("storeId") String storeId,
      @JsonProperty("version") long version,
      @JsonProperty("manifestKey") String manifestKey,
      @JsonProperty("keyGroups") KeyGroupRange keyGroups,
      @JsonProperty("maxParallelism") int maxParallelism,
      @JsonProperty("files") List<String> files) {
    this.storeId = Objects.requireNonNull(storeId, "storeId");
    this.version = version;
    this.manifestKey = Objects.requireNonNull(manifestKey, "manifestKey");
    this.keyGroups = Objects.requireNonNull(keyGroups, "keyGroups");
    this.maxParallelism = maxParallelism;
    this.files = List.copyOf(files == null ? List.of() : files);
  }
}
