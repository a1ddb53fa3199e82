package io.stratus.store.lsm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * An immutable set of file views per level: level 0 newest first (views may overlap), levels 1
 * and up sorted by key with disjoint views. Reference-counted: the store holds the current
 * version, every read holds the version it started on, and when the last holder lets go the
 * files it referenced are released, so a file leaves only after every reader that could see it
 * has finished.
 */
final class Version {

  private static final Comparator<FileRef> BY_SMALLEST =
      (a, b) -> Arrays.compareUnsigned(a.smallest(), b.smallest());

  private final long id;
  private final List<List<FileRef>> levels;
  private final AtomicInteger refs = new AtomicInteger(1);
  private final Consumer<Version> onLastRelease;
  /** Computed once: every write asks for it (write stalls) and the count is quadratic. */
  private final int l0Depth;
  /** Files smaller than this are small: flushes of small memtables, checkpoint deltas. */
  private final long smallFileBytes;
  /** {@link #l0Depth} counting level-0 files of at least {@code smallFileBytes} only. */
  private final int l0DepthOfLargeFiles;

  Version(long id, List<List<FileRef>> levels, long smallFileBytes,
      Consumer<Version> onLastRelease) {
    this.id = id;
    List<List<FileRef>> copy = new ArrayList<>(levels.size());
    for (List<FileRef> level : levels) {
      copy.add(List.copyOf(level));
    }
    this.levels = Collections.unmodifiableList(copy);
    this.onLastRelease = onLastRelease;
    this.l0Depth = this.levels.isEmpty() ? 0 : computeL0Depth(this.levels.get(0));
    this.smallFileBytes = smallFileBytes;
    this.l0DepthOfLargeFiles = this.levels.isEmpty() ? 0 : computeL0Depth(
        this.levels.get(0).stream().filter(r -> r.size() >= smallFileBytes).toList());
    for (List<FileRef> level : this.levels) {
      for (FileRef ref : level) {
        ref.file().retain();
      }
    }
  }

  long id() {
    return id;
  }

  int levelCount() {
    return levels.size();
  }

  List<FileRef> level(int level) {
    return levels.get(level);
  }

  /**
   * The most level-0 views any one key group is in: what a read of that key group may probe.
   * After a scale-in the level-0 files of the merged stores cover disjoint key groups, so this
   * is the larger of their counts, not their sum; it is what compaction and write stalls
   * should follow.
   */
  int l0Depth() {
    return l0Depth;
  }

  /**
   * {@link #l0Depth()} counting only files of at least the small-file size: small files are
   * merged with each other first, so they say little of the compaction debt.
   */
  int l0DepthOfLargeFiles() {
    return l0DepthOfLargeFiles;
  }

  private static int computeL0Depth(List<FileRef> l0) {
    int depth = 0;
    for (FileRef a : l0) {
      int containing = 0;
      for (FileRef b : l0) {
        if (b.visible().contains(a.visible().start())) {
          containing++;
        }
      }
      depth = Math.max(depth, containing);
    }
    return depth;
  }

  long levelBytes(int level) {
    long bytes = 0;
    for (FileRef ref : levels.get(level)) {
      bytes += ref.size();
    }
    return bytes;
  }

  int fileCount() {
    int n = 0;
    for (List<FileRef> level : levels) {
      n += level.size();
    }
    return n;
  }

  /** Takes a reference unless the version was already let go; then the caller reads anew. */
  boolean tryRetain() {
    while (true) {
      int n = refs.get();
      if (n <= 0) {
        return false;
      }
      if (refs.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  void release() {
    int left = refs.decrementAndGet();
    if (left == 0) {
      onLastRelease.accept(this);
    } else if (left < 0) {
      throw new IllegalStateException("version " + id + " released more often than retained");
    }
  }

  /** The view of a level above 0 that may hold {@code key}, or {@code null}. */
  FileRef find(int level, byte[] key) {
    List<FileRef> refsOfLevel = levels.get(level);
    int lo = 0;
    int hi = refsOfLevel.size() - 1;
    FileRef candidate = null;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      FileRef ref = refsOfLevel.get(mid);
      if (Arrays.compareUnsigned(ref.smallest(), key) <= 0) {
        candidate = ref;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return candidate != null && candidate.containsKey(key) ? candidate : null;
  }

  /** The views of {@code level} that meet {@code [from, to)}, in level order. */
  List<FileRef> overlapping(int level, byte[] from, byte[] to) {
    List<FileRef> out = new ArrayList<>();
    for (FileRef ref : levels.get(level)) {
      if (ref.overlaps(from, to)) {
        out.add(ref);
      }
    }
    return out;
  }

  /**
   * A new version without the views in {@code removed} (by identity) and with {@code added}:
   * level-0 additions go in front (they are newer), other levels stay sorted.
   */
  Version apply(long newId, Set<FileRef> removed, Map<Integer, List<FileRef>> added,
      Consumer<Version> release) {
    Set<FileRef> gone = Collections.newSetFromMap(new IdentityHashMap<>());
    gone.addAll(removed);
    List<List<FileRef>> next = new ArrayList<>(levels.size());
    for (int level = 0; level < levels.size(); level++) {
      List<FileRef> list = new ArrayList<>();
      List<FileRef> add = added.getOrDefault(level, List.of());
      if (level == 0) {
        list.addAll(add);
      }
      for (FileRef ref : levels.get(level)) {
        if (!gone.contains(ref)) {
          list.add(ref);
        }
      }
      if (level > 0) {
        list.addAll(add);
        list.sort(BY_SMALLEST);
        checkDisjoint(level, list);
      }
      next.add(list);
    }
    return new Version(newId, next, smallFileBytes, release);
  }

  /**
   * This version with {@code run} (contiguous level-0 views, newest first) replaced by
   * {@code outputs} in its place: files flushed since are newer and stay in front, older ones
   * behind, so level 0 stays ordered by recency.
   */
  Version replaceInLevel0(long newId, List<FileRef> run, List<FileRef> outputs,
      Consumer<Version> release) {
    List<FileRef> level0 = levels.get(0);
    int at = -1;
    for (int i = 0; i < level0.size() && at < 0; i++) {
      if (level0.get(i) == run.get(0)) {
        at = i;
      }
    }
    if (at < 0 || at + run.size() > level0.size()) {
      throw new IllegalStateException("level 0 no longer holds the merged run " + run);
    }
    for (int i = 0; i < run.size(); i++) {
      if (level0.get(at + i) != run.get(i)) {
        throw new IllegalStateException("level 0 no longer holds the merged run " + run
            + " in a row");
      }
    }
    List<List<FileRef>> next = new ArrayList<>(levels);
    List<FileRef> merged = new ArrayList<>(level0.subList(0, at));
    merged.addAll(outputs);
    merged.addAll(level0.subList(at + run.size(), level0.size()));
    next.set(0, merged);
    return new Version(newId, next, smallFileBytes, release);
  }

  static void checkDisjoint(int level, List<FileRef> sorted) {
    for (int i = 1; i < sorted.size(); i++) {
      if (Arrays.compareUnsigned(sorted.get(i - 1).limit(), sorted.get(i).smallest()) > 0) {
        throw new IllegalStateException("level " + level + " would hold overlapping files "
            + sorted.get(i - 1) + " and " + sorted.get(i));
      }
    }
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("Version ").append(id);
    for (int i = 0; i < levels.size(); i++) {
      if (!levels.get(i).isEmpty()) {
        sb.append(" L").append(i).append('=').append(levels.get(i).size());
      }
    }
    return sb.toString();
  }
}
