package io.stratus.store.lsm;

import io.stratus.store.sst.EntryKind;
import io.stratus.store.sst.SstEntry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.NavigableSet;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The in-memory sorted buffer of recent writes. Every write is a new entry tagged with a sequence
 * number, newest first within a key, so a reader at snapshot {@code s} sees exactly the writes
 * numbered {@code <= s} while writers go on: this is what keeps iterators consistent.
 *
 * <p>It also keeps, in write order, the entries added since the last {@link #drainPending()}:
 * the store uploads them as a delta file so that a checkpoint need not upload the whole
 * memtable. Adding and draining run under the store's write lock.
 */
final class Memtable {

  /** Bytes charged per entry besides key and value: node, entry object, array headers. */
  static final int ENTRY_OVERHEAD = 96;

  private record Entry(byte[] key, long seq, EntryKind kind, byte[] value) {}

  private static final Comparator<Entry> ORDER = (a, b) -> {
    int c = Arrays.compareUnsigned(a.key, b.key);
    return c != 0 ? c : Long.compare(b.seq, a.seq);
  };

  private final ConcurrentSkipListSet<Entry> entries = new ConcurrentSkipListSet<>(ORDER);
  private final AtomicLong bytes = new AtomicLong();
  private final long id;
  private List<Entry> pending = new ArrayList<>();
  private long pendingSinceNanos;

  Memtable(long id) {
    this.id = id;
  }

  long id() {
    return id;
  }

  void add(byte[] key, long seq, EntryKind kind, byte[] value) {
    Entry e = new Entry(key, seq, kind, value);
    entries.add(e);
    bytes.addAndGet(key.length + value.length + ENTRY_OVERHEAD);
    if (pending.isEmpty()) {
      pendingSinceNanos = System.nanoTime();
    }
    pending.add(e);
  }

  /** When the oldest entry not yet drained was added ({@link System#nanoTime}), 0 if none. */
  long pendingSinceNanos() {
    return pending.isEmpty() ? 0 : pendingSinceNanos;
  }

  /**
   * The entries added since the last call, as a supplier of one combined entry per key in key
   * order (as a flush writes them), or {@code null} if there are none. The supplier sorts, so
   * that this happens off the writer's thread.
   */
  Supplier<EntryIterator> drainPending() {
    if (pending.isEmpty()) {
      return null;
    }
    List<Entry> drained = pending;
    pending = new ArrayList<>();
    return () -> {
      drained.sort(ORDER);
      return combined(drained.iterator(), null, Long.MAX_VALUE);
    };
  }

  long approximateBytes() {
    return bytes.get();
  }

  boolean isEmpty() {
    return entries.isEmpty();
  }

  /**
   * Feeds this memtable's entries of {@code key} visible at {@code snapshot} to {@code combiner},
   * newest first; returns {@code true} once the value is determined.
   */
  boolean lookup(byte[] key, long snapshot, EntryCombiner combiner) {
    for (Entry e : entries.tailSet(new Entry(key, snapshot, null, null), true)) {
      if (!Arrays.equals(e.key, key)) {
        return false;
      }
      if (combiner.add(e.kind, e.value)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The entries in {@code [from, to)} visible at {@code snapshot}, one combined entry per key
   * (PUT, DELETE or MERGE). {@code to == null} means no upper bound.
   */
  EntryIterator iterator(byte[] from, byte[] to, long snapshot) {
    NavigableSet<Entry> range = from == null ? entries
        : entries.tailSet(new Entry(from, Long.MAX_VALUE, null, null), true);
    return combined(range.iterator(), to, snapshot);
  }

  /**
   * Entries of {@code it} (in {@link #ORDER}) below {@code to} and visible at {@code snapshot},
   * one combined entry per key.
   */
  private static EntryIterator combined(Iterator<Entry> it, byte[] to, long snapshot) {
    return new EntryIterator() {
      private Entry lookahead = nextVisible();
      private SstEntry current = computeNext();

      private Entry nextVisible() {
        while (it.hasNext()) {
          Entry e = it.next();
          if (to != null && Arrays.compareUnsigned(e.key, to) >= 0) {
            return null;
          }
          if (e.seq <= snapshot) {
            return e;
          }
        }
        return null;
      }

      private SstEntry computeNext() {
        if (lookahead == null) {
          return null;
        }
        byte[] key = lookahead.key;
        EntryCombiner combiner = new EntryCombiner();
        boolean resolved = false;
        while (lookahead != null && Arrays.equals(lookahead.key, key)) {
          if (!resolved) {
            resolved = combiner.add(lookahead.kind, lookahead.value);
          }
          lookahead = nextVisible();
        }
        return combiner.toEntry(key, false);
      }

      @Override
      public SstEntry peek() {
        return current;
      }

      @Override
      public void advance() {
        current = computeNext();
      }
    };
  }
}
