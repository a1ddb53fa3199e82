package io.stratus.runtime.state;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.stratus.cache.BlockKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Blocks of state files a keyed task read most, hottest first, as its worker's cache ranked
 * them: a checkpoint ack carries them so that the next owner of the task's key groups (a
 * rescale or a recovery) loads them into its cache first. Compact, so that a few thousand
 * blocks stay a small message: the file names once, then each block as three numbers.
 *
 * @param files  the files the blocks belong to
 * @param blocks {@code [fileIndex, offset, length]} per block, hottest first
 */
public record HotBlocks(List<String> files, long[] blocks) {

  public static final HotBlocks NONE = new HotBlocks(List.of(), new long[0]);

  @JsonCreator
  public HotBlocks(@JsonProperty("files") List<String> files,
      @JsonProperty("blocks") long[] blocks) {
    this.files = files == null ? List.of() : List.copyOf(files);
    this.blocks = blocks == null ? new long[0] : blocks.clone();
    if (this.blocks.length % 3 != 0) {
      throw new IllegalArgumentException("hot blocks come as (file, offset, length) triples, "
          + "not " + this.blocks.length + " numbers");
    }
    for (int i = 0; i < this.blocks.length; i += 3) {
      if (this.blocks[i] < 0 || this.blocks[i] >= this.files.size()) {
        throw new IllegalArgumentException("hot block " + i / 3 + " names file "
            + this.blocks[i] + " of " + this.files.size());
      }
    }
  }

  /** {@code keys}, in their order (hottest first). */
  public static HotBlocks of(List<BlockKey> keys) {
    if (keys.isEmpty()) {
      return NONE;
    }
    Map<String, Integer> index = new HashMap<>();
    List<String> files = new ArrayList<>();
    long[] blocks = new long[keys.size() * 3];
    int i = 0;
    for (BlockKey k : keys) {
      Integer f = index.get(k.file());
      if (f == null) {
        f = files.size();
        index.put(k.file(), f);
        files.add(k.file());
      }
      blocks[i++] = f;
      blocks[i++] = k.offset();
      blocks[i++] = k.length();
    }
    return new HotBlocks(files, blocks);
  }

  /**
   * At most {@code limit} blocks of {@code lists}, hottest first: the lists' first blocks, then
   * their second ones, and so on (each list is ranked by its own worker's cache).
   */
  public static HotBlocks union(Collection<HotBlocks> lists, int limit) {
    List<Iterator<BlockKey>> ranked = new ArrayList<>();
    for (HotBlocks h : lists) {
      ranked.add(h.keys().iterator());
    }
    Set<BlockKey> out = new LinkedHashSet<>();
    boolean more = true;
    while (more && out.size() < limit) {
      more = false;
      for (Iterator<BlockKey> it : ranked) {
        if (it.hasNext() && out.size() < limit) {
          out.add(it.next());
          more = true;
        }
      }
    }
    return of(List.copyOf(out));
  }

  @Override
  public long[] blocks() {
    return blocks.clone();
  }

  /** The blocks, hottest first. */
  @JsonIgnore
  public List<BlockKey> keys() {
    List<BlockKey> out = new ArrayList<>(blocks.length / 3);
    for (int i = 0; i < blocks.length; i += 3) {
      out.add(new BlockKey(files.get((int) blocks[i]), blocks[i + 1], (int) blocks[i + 2]));
    }
    return out;
  }

  @JsonIgnore
  public boolean isEmpty() {
    return blocks.length == 0;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof HotBlocks h && files.equals(h.files) && Arrays.equals(blocks, h.blocks);
  }

  @Override
  public int hashCode() {
    return 31 * files.hashCode() + Arrays.hashCode(blocks);
  }

  @Override
  public String toString() {
    return "HotBlocks[" + blocks.length / 3 + " blocks of " + files.size() + " files]";
  }
}
