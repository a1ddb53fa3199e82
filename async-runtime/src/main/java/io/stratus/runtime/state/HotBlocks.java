package io.stratus.runtime.state;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.stratus.cache.BlockKey;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Blocks of state files a keyed task read most, as its worker's cache ranked them: a checkpoint
 * ack carries them so that the next owner of the task's key groups (a rescale or a recovery)
 * loads them into its cache first. Grouped by file, each file's blocks as offset and length
 * pairs, so that a few thousand blocks stay a small message.
 *
 * @param blocks per file name, {@code [offset0, length0, offset1, length1, ...]}
 */
public record HotBlocks(Map<String, long[]> blocks) {

  public static final HotBlocks NONE = new HotBlocks(Map.of());

  @JsonCreator
  public HotBlocks(@JsonProperty("blocks") Map<String, long[]> blocks) {
    this.blocks = blocks == null ? Map.of() : Map.copyOf(blocks);
  }

  public static HotBlocks of(List<BlockKey> keys) {
    if (keys.isEmpty()) {
      return NONE;
    }
    Map<String, List<BlockKey>> byFile = new LinkedHashMap<>();
    for (BlockKey k : keys) {
      byFile.computeIfAbsent(k.file(), f -> new ArrayList<>()).add(k);
    }
    Map<String, long[]> out = new LinkedHashMap<>();
    byFile.forEach((file, list) -> {
      long[] pairs = new long[list.size() * 2];
      for (int i = 0; i < list.size(); i++) {
        pairs[2 * i] = list.get(i).offset();
        pairs[2 * i + 1] = list.get(i).length();
      }
      out.put(file, pairs);
    });
    return new HotBlocks(out);
  }

  /** The blocks of all of {@code lists}, in no particular order. */
  public static HotBlocks union(Collection<HotBlocks> lists) {
    List<BlockKey> all = new ArrayList<>();
    for (HotBlocks h : lists) {
      all.addAll(h.keys());
    }
    return of(all);
  }

  @JsonIgnore
  public List<BlockKey> keys() {
    List<BlockKey> out = new ArrayList<>();
    blocks.forEach((file, pairs) -> {
      for (int i = 0; i + 1 < pairs.length; i += 2) {
        out.add(new BlockKey(file, pairs[i], (int) pairs[i + 1]));
      }
    });
    return out;
  }

  @JsonIgnore
  public boolean isEmpty() {
    return blocks.isEmpty();
  }
}
