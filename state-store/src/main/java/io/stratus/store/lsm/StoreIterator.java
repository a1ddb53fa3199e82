package io.stratus.store.lsm;

import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Live entries of a key range in key order, as of the moment the iterator was created: writes,
 * flushes and compactions that happen while it is open do not change what it returns. It may
 * block while blocks load, so use it off event loops ({@link StateStore#scan} does). Close it to
 * let the files it pins go.
 */
public final class StoreIterator implements Iterator<KeyValue>, AutoCloseable {

  private final MergingIterator merged;
  private final Runnable onClose;
  private byte[][] next;
  private boolean closed;

  StoreIterator(MergingIterator merged, Runnable onClose) {
    this.merged = merged;
    this.onClose = onClose;
    this.next = merged.nextLive();
  }

  @Override
  public boolean hasNext() {
    return !closed && next != null;
  }

  @Override
  public KeyValue next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    KeyValue kv = new KeyValue(next[0], next[1]);
    next = merged.nextLive();
    return kv;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      onClose.run();
    }
  }
}
