package io.stratus.store.lsm;

import io.stratus.store.sst.SstEntry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Merges sorted runs given newest first into one run with one entry per key, combining each
 * key's entries with {@link EntryCombiner}. For reads it yields live values only; for compaction
 * it yields the entries to write (tombstones kept unless {@code bottommost}).
 */
final class MergingIterator {

  private record Head(EntryIterator source, int priority) {}

  private final PriorityQueue<Head> heap;
  private final EntryCombiner combiner = new EntryCombiner();
  private final List<Head> same = new ArrayList<>();

  MergingIterator(List<EntryIterator> newestFirst) {
    heap = new PriorityQueue<>(Math.max(1, newestFirst.size()), (a, b) -> {
      int c = Arrays.compareUnsigned(a.source.peek().key(), b.source.peek().key());
      return c != 0 ? c : Integer.compare(a.priority, b.priority);
    });
    for (int i = 0; i < newestFirst.size(); i++) {
      if (newestFirst.get(i).peek() != null) {
        heap.add(new Head(newestFirst.get(i), i));
      }
    }
  }

  /** The next key's combined entry as a sorted run stores it, or {@code null} at the end. */
  SstEntry nextEntry(boolean bottommost) {
    while (!heap.isEmpty()) {
      byte[] key = combineNextKey();
      SstEntry e = combiner.toEntry(key, bottommost);
      if (e != null) {
        return e;
      }
    }
    return null;
  }

  /** The next live key and its value ({@code [key, value]}), or {@code null} at the end. */
  byte[][] nextLive() {
    while (!heap.isEmpty()) {
      byte[] key = combineNextKey();
      byte[] value = combiner.value();
      if (value != null) {
        return new byte[][] {key, value};
      }
    }
    return null;
  }

  private byte[] combineNextKey() {
    combiner.reset();
    Head first = heap.poll();
    byte[] key = first.source.peek().key();
    same.clear();
    same.add(first);
    while (!heap.isEmpty() && Arrays.equals(heap.peek().source.peek().key(), key)) {
      same.add(heap.poll());
    }
    for (Head h : same) {
      SstEntry e = h.source.peek();
      if (!combiner.resolved()) {
        combiner.add(e.kind(), e.value());
      }
      h.source.advance();
      if (h.source.peek() != null) {
        heap.add(h);
      }
    }
    return key;
  }
}
