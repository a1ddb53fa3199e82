package io.stratus.store.lsm;

import io.stratus.store.sst.SstEntry;

/**
 * A sorted run of entries (a memtable, a file, a level), each key at most once, read in key
 * order. Sources may block while they load blocks, so they run on background or read threads,
 * never on an event loop.
 */
interface EntryIterator {

  /** The next entry without consuming it, or {@code null} at the end. */
  SstEntry peek();

  /** Consumes the entry {@link #peek()} returned. */
  void advance();
}
