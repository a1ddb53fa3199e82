package io.stratus.store.lsm;

import io.stratus.store.objectstore.ObjectStore;
import io.stratus.store.sst.Block;
import io.stratus.store.sst.SstReader;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;

/**
 * Reads one file's blocks in order with large ranged reads (a chunk of consecutive blocks per
 * request) and fetches the next chunk while the current one is consumed. Compaction reads whole
 * files this way: a few requests per file instead of one per block, and no pollution of the
 * block cache with data that is about to be rewritten. One instance per level iterator; it
 * starts over when the iterator moves to the next file.
 */
final class ReadaheadBlockSource implements BlockSource {

  private final ObjectStore store;
  private final long chunkBytes;
  private SstFile chunkFile;
  private int chunkFirst = -1;
  private int chunkEnd;
  private byte[] chunk;
  private CompletableFuture<byte[]> next;
  private int nextFirst = -1;
  private int nextEnd;

  ReadaheadBlockSource(ObjectStore store, long chunkBytes) {
    this.store = store;
    this.chunkBytes = chunkBytes;
  }

  @Override
  public Block block(SstFile file, SstReader reader, int index) {
    if (file != chunkFile) {
      chunkFile = file;
      chunk = null;
      next = null;
    }
    if (chunk == null || index < chunkFirst || index >= chunkEnd) {
      if (next != null && nextFirst == index) {
        chunk = StateStore.join(next);
        chunkFirst = nextFirst;
        chunkEnd = nextEnd;
      } else {
        chunkFirst = index;
        chunkEnd = endOfChunk(reader, index);
        chunk = StateStore.join(fetch(file, reader, chunkFirst, chunkEnd));
      }
      next = null;
      if (chunkEnd < reader.blockCount()) {
        nextFirst = chunkEnd;
        nextEnd = endOfChunk(reader, nextFirst);
        next = fetch(file, reader, nextFirst, nextEnd);
      }
    }
    long base = reader.blockOffset(chunkFirst);
    int from = (int) (reader.blockOffset(index) - base);
    byte[] stored = Arrays.copyOfRange(chunk, from, from + reader.blockLength(index));
    return Block.verify(stored, file.name(), reader.blockOffset(index));
  }

  private int endOfChunk(SstReader reader, int first) {
    long start = reader.blockOffset(first);
    int end = first + 1;
    while (end < reader.blockCount()
        && reader.blockOffset(end) + reader.blockLength(end) - start <= chunkBytes) {
      end++;
    }
    return end;
  }

  private CompletableFuture<byte[]> fetch(SstFile file, SstReader reader, int first, int end) {
    long start = reader.blockOffset(first);
    long stop = reader.blockOffset(end - 1) + reader.blockLength(end - 1);
    return store.getRange(file.name(), start, (int) (stop - start));
  }
}
