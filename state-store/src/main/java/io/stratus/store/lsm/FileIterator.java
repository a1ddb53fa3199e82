package io.stratus.store.lsm;

import io.stratus.store.sst.Block;
import io.stratus.store.sst.SstEntry;
import io.stratus.store.sst.SstReader;
import java.util.Arrays;

/** The entries of one file view within {@code [from, to)}, block by block. */
final class FileIterator implements EntryIterator {

  private final SstFile file;
  private final SstReader reader;
  private final BlockSource blocks;
  private final byte[] to;
  private int blockIndex;
  private Block.Iterator current;
  private SstEntry next;

  FileIterator(FileRef ref, SstReader reader, byte[] from, byte[] to, BlockSource blocks) {
    this.file = ref.file();
    this.reader = reader;
    this.blocks = blocks;
    byte[] lower = from == null ? ref.smallest() : FileRef.max(from, ref.smallest());
    this.to = to == null ? ref.limit() : FileRef.min(to, ref.limit());
    this.blockIndex = reader.blockFor(lower);
    if (blockIndex < reader.blockCount()) {
      current = blocks.block(file, reader, blockIndex).iterator(lower);
    }
    advance();
  }

  @Override
  public SstEntry peek() {
    return next;
  }

  @Override
  public void advance() {
    next = null;
    while (current != null) {
      if (current.hasNext()) {
        SstEntry e = current.next();
        if (Arrays.compareUnsigned(e.key(), to) >= 0) {
          current = null;
          return;
        }
        next = e;
        return;
      }
      blockIndex++;
      current = blockIndex < reader.blockCount()
          ? blocks.block(file, reader, blockIndex).iterator(null) : null;
    }
  }
}
