package io.stratus.store.lsm;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.sst.SstProperties;
import java.io.IOException;
import java.util.List;

/**
 * The published form of a version: JSON (one line; {@code jq} prints it readably) at {@code versions/<storeId>/<number>.json}
 * listing every file view per level with the properties a reader needs, so that restoring reads
 * this object and no SST file. Keys are base64. See {@code docs/checkpoints.md}.
 *
 * @param format         the manifest format version
 * @param storeId        the publishing store
 * @param version        the version number
 * @param maxParallelism the key-group space
 * @param keyGroups      the key groups the store owned
 * @param files          the file views, level 0 newest first, then level by level in key order
 */
record VersionManifest(int format, String storeId, long version, int maxParallelism,
    KeyGroupRange keyGroups, List<FileEntry> files) {

  static final int FORMAT = 1;

  private static final ObjectMapper JSON = new ObjectMapper();

  @JsonCreator
  VersionManifest(@JsonProperty("format") int format, @JsonProperty("storeId") String storeId,
      @JsonProperty("version") long version, @JsonProperty("maxParallelism") int maxParallelism,
      @JsonProperty("keyGroups") KeyGroupRange keyGroups,
      @JsonProperty("files") List<FileEntry> files) {
    this.format = format;
    this.storeId = storeId;
    this.version = version;
    this.maxParallelism = maxParallelism;
    this.keyGroups = keyGroups;
    this.files = files == null ? List.of() : List.copyOf(files);
  }

  /**
   * One file view.
   *
   * @param name          the SST object key
   * @param level         the level it sits on
   * @param visible       the key groups visible through this view
   * @param size          file size in bytes
   * @param metaOffset    start of the filter, index, properties and footer
   * @param smallest      first key of the file
   * @param largest       last key of the file
   * @param fileKeyGroups key groups of the file's first and last key
   * @param entries       entries in the file
   * @param deletes       tombstones in the file
   * @param merges        merge operands in the file
   * @param dataBlocks    data blocks in the file
   */
  record FileEntry(String name, int level, KeyGroupRange visible, long size, long metaOffset,
      byte[] smallest, byte[] largest, KeyGroupRange fileKeyGroups, long entries, long deletes,
      long merges, int dataBlocks) {

    @JsonCreator
    FileEntry(@JsonProperty("name") String name, @JsonProperty("level") int level,
        @JsonProperty("visible") KeyGroupRange visible, @JsonProperty("size") long size,
        @JsonProperty("metaOffset") long metaOffset, @JsonProperty("smallest") byte[] smallest,
        @JsonProperty("largest") byte[] largest,
        @JsonProperty("fileKeyGroups") KeyGroupRange fileKeyGroups,
        @JsonProperty("entries") long entries, @JsonProperty("deletes") long deletes,
        @JsonProperty("merges") long merges, @JsonProperty("dataBlocks") int dataBlocks) {
      this.name = name;
      this.level = level;
      this.visible = visible;
      this.size = size;
      this.metaOffset = metaOffset;
      this.smallest = smallest;
      this.largest = largest;
      this.fileKeyGroups = fileKeyGroups;
      this.entries = entries;
      this.deletes = deletes;
      this.merges = merges;
      this.dataBlocks = dataBlocks;
    }

    static FileEntry of(FileRef ref, int level) {
      SstProperties p = ref.file().properties();
      return new FileEntry(ref.file().name(), level, ref.visible(), p.fileSize(), p.metaOffset(),
          p.smallest(), p.largest(), p.keyGroups(), p.entries(), p.deletes(), p.merges(),
          p.dataBlocks());
    }

    SstProperties properties() {
      return new SstProperties(entries, deletes, merges, dataBlocks, smallest, largest,
          fileKeyGroups, metaOffset, size);
    }
  }

  byte[] toJson() {
    try {
      return JSON.writeValueAsBytes(this);
    } catch (IOException e) {
      throw new IllegalStateException("cannot serialize version manifest", e);
    }
  }

  /**
   * Parses a manifest and checks it is complete.
   *
   * @throws IllegalArgumentException naming {@code key} and the problem
   */
  static VersionManifest parse(String key, byte[] json) {
    VersionManifest m;
    try {
      m = JSON.readValue(json, VersionManifest.class);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException("version manifest " + key + " is not valid JSON: "
          + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new IllegalArgumentException("version manifest " + key + " cannot be read: "
          + e.getMessage(), e);
    }
    if (m.format != FORMAT) {
      throw new IllegalArgumentException("version manifest " + key + " has format " + m.format
          + ", this build reads " + FORMAT);
    }
    if (m.storeId == null || m.keyGroups == null) {
      throw new IllegalArgumentException(
          "version manifest " + key + " lacks its storeId or keyGroups");
    }
    for (FileEntry f : m.files) {
      if (f.name == null || f.visible == null || f.smallest == null || f.largest == null
          || f.fileKeyGroups == null || f.metaOffset <= 0 || f.size <= f.metaOffset
          || f.level < 0) {
        throw new IllegalArgumentException(
            "version manifest " + key + " has an incomplete file entry " + f.name);
      }
    }
    return m;
  }
}
