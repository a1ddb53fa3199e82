package io.stratus.store.lsm;

import io.stratus.store.objectstore.ObjectStore;
import io.stratus.store.sst.SstEntry;
import java.util.List;

/** The entries of a level's disjoint, sorted file views within {@code [from, to)}, file by file. */
final class LevelIterator implements EntryIterator {

  private final List<FileRef> refs;
  private final byte[] from;
  private final byte[] to;
  private final ObjectStore store;
  private final BlockSource blocks;
  private int nextRef;
  private FileIterator current;

  LevelIterator(List<FileRef> refs, byte[] from, byte[] to, ObjectStore store,
      BlockSource blocks) {
    this.refs = refs;
    this.from = from;
    this.to = to;
    this.store = store;
    this.blocks = blocks;
    openNext();
  }

  private void openNext() {
    current = null;
    while (nextRef < refs.size()) {
      FileRef ref = refs.get(nextRef++);
      FileIterator it = new FileIterator(ref, StateStore.join(ref.file().reader(store)), from, to,
          blocks);
      if (it.peek() != null) {
        current = it;
        return;
      }
    }
  }

  @Override
  public SstEntry peek() {
    return current == null ? null : current.peek();
  }

  @Override
  public void advance() {
    current.advance();
    if (current.peek() == null) {
      openNext();
    }
  }
}
