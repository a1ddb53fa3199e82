package io.stratus.store.lsm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Leveled compaction: chooses what to compact next from a version. Level 0 is compacted into
 * level 1 when it holds {@code l0CompactionTrigger} large files deep (or twice as many files of
 * any size); level n (n >= 1) is compacted into n + 1 when it exceeds its target size, one file
 * at a time in round-robin key order. When an input overlaps nothing in the next level (as with
 * keys written in order) the file moves down without being rewritten.
 *
 * <p>Some level-0 files are small: a store restored from a checkpoint finds the checkpoint's
 * deltas there (see {@code StateStore#checkpoint}), and a memtable flushed after its last
 * allowed delta may be far from full. Merging level 0 into level 1 every few of them would
 * rewrite level 1 for a few MiB each time, so the newest level-0 files smaller than half a
 * target file are first merged with each other into one level-0 file where they were
 * (intra-level-0, as RocksDB does), and count towards level 1 only as that merged file.
 */
final class CompactionPicker {

  /**
   * One compaction.
   *
   * @param level        the input level
   * @param outputLevel  where the output goes: {@code level + 1}, or 0 for a merge of small
   *                     level-0 files that stays in level 0
   * @param inputs       views taken from {@code level}
   * @param overlapping  views of the output level that the inputs overlap
   * @param trivialMove  whether the inputs move down unchanged
   * @param bottommost   whether no deeper level holds keys of the compacted range, so
   *                     tombstones can be dropped and merges become values
   * @param from         first key of the compacted range
   * @param limit        end of the compacted range (exclusive)
   */
  record Compaction(int level, int outputLevel, List<FileRef> inputs, List<FileRef> overlapping,
      boolean trivialMove, boolean bottommost, byte[] from, byte[] limit) {

    /** Whether this merges small level-0 files into one level-0 file in their place. */
    boolean withinLevel0() {
      return outputLevel == 0;
    }

    long inputBytes() {
      long bytes = 0;
      for (FileRef r : inputs) {
        bytes += r.size();
      }
      for (FileRef r : overlapping) {
        bytes += r.size();
      }
      return bytes;
    }
  }

  private final StoreOptions options;
  private final byte[][] cursors;

  CompactionPicker(StoreOptions options) {
    this.options = options;
    this.cursors = new byte[options.levels()][];
  }

  /** The most urgent compaction of {@code version}, or {@code null} if none is due. */
  Compaction pick(Version version) {
    int bestLevel = -1;
    double bestScore = 1.0;
    int small = smallRun(version.level(0));
    double merge = (double) small / options.l0CompactionTrigger();
    // Small files behind large ones are not merged with each other; past twice the trigger
    // they go down with the rest.
    double l0 = Math.max((double) version.l0DepthOfLargeFiles() / options.l0CompactionTrigger(),
        (double) version.l0Depth() / (2 * options.l0CompactionTrigger()));
    if (merge >= bestScore && merge >= l0) {
      return withinLevel0(version.level(0).subList(0, small));
    }
    if (l0 >= bestScore) {
      bestLevel = 0;
      bestScore = l0;
    }
    for (int level = 1; level < version.levelCount() - 1; level++) {
      double score = (double) version.levelBytes(level) / options.levelTargetBytes(level);
      if (score > bestScore) {
        bestLevel = level;
        bestScore = score;
      }
    }
    if (bestLevel < 0) {
      return null;
    }
    return bestLevel == 0 ? pickLevel0(version) : pickLevel(version, bestLevel);
  }

  /** Below this size a level-0 file is merged with other small ones before level 1. */
  static long smallFileBytes(StoreOptions options) {
    return options.targetFileBytes() / 2;
  }

  /** How many of the newest level-0 files, in a row, are small. */
  private int smallRun(List<FileRef> level0) {
    long small = smallFileBytes(options);
    int run = 0;
    while (run < level0.size() && level0.get(run).size() < small) {
      run++;
    }
    return run;
  }

  /**
   * Merges {@code run} (newest first, contiguous) into one level-0 file. Never bottommost: older
   * files, in level 0 or below, may hold the same keys, so tombstones and merge operands stay.
   */
  private static Compaction withinLevel0(List<FileRef> run) {
    byte[] from = run.get(0).smallest();
    byte[] limit = run.get(0).limit();
    for (FileRef r : run) {
      from = FileRef.min(from, r.smallest());
      limit = FileRef.max(limit, r.limit());
    }
    return new Compaction(0, 0, List.copyOf(run), List.of(), false, false, from, limit);
  }

  private Compaction pickLevel0(Version version) {
    List<FileRef> inputs = version.level(0);
    byte[] from = inputs.get(0).smallest();
    byte[] limit = inputs.get(0).limit();
    for (FileRef r : inputs) {
      from = FileRef.min(from, r.smallest());
      limit = FileRef.max(limit, r.limit());
    }
    List<FileRef> overlapping = version.overlapping(1, from, limit);
    boolean trivial = overlapping.isEmpty() && pairwiseDisjoint(inputs);
    return finish(version, 0, inputs, overlapping, trivial);
  }

  private Compaction pickLevel(Version version, int level) {
    List<FileRef> files = version.level(level);
    FileRef chosen = files.get(0);
    if (cursors[level] != null) {
      for (FileRef r : files) {
        if (Arrays.compareUnsigned(r.smallest(), cursors[level]) >= 0) {
          chosen = r;
          break;
        }
      }
    }
    cursors[level] = chosen.limit();
    List<FileRef> inputs = List.of(chosen);
    List<FileRef> overlapping = version.overlapping(level + 1, chosen.smallest(), chosen.limit());
    return finish(version, level, inputs, overlapping, overlapping.isEmpty());
  }

  private static Compaction finish(Version version, int level, List<FileRef> inputs,
      List<FileRef> overlapping, boolean trivial) {
    List<FileRef> all = new ArrayList<>(inputs);
    all.addAll(overlapping);
    byte[] from = all.get(0).smallest();
    byte[] limit = all.get(0).limit();
    for (FileRef r : all) {
      from = FileRef.min(from, r.smallest());
      limit = FileRef.max(limit, r.limit());
    }
    boolean bottommost = true;
    for (int deeper = level + 2; deeper < version.levelCount() && bottommost; deeper++) {
      bottommost = version.overlapping(deeper, from, limit).isEmpty();
    }
    return new Compaction(level, level + 1, inputs, overlapping, trivial, bottommost, from,
        limit);
  }

  private static boolean pairwiseDisjoint(List<FileRef> refs) {
    List<FileRef> sorted = new ArrayList<>(refs);
    sorted.sort((a, b) -> Arrays.compareUnsigned(a.smallest(), b.smallest()));
    for (int i = 1; i < sorted.size(); i++) {
      if (Arrays.compareUnsigned(sorted.get(i - 1).limit(), sorted.get(i).smallest()) > 0) {
        return false;
      }
    }
    return true;
  }
}
