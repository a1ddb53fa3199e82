package io.stratus.store.sst;

import java.util.Arrays;

/**
 * Builds one data (or index) block. Entries are prefix-compressed against the previous key, with
 * a full key every {@value #RESTART_INTERVAL} entries (a restart point) so that a reader can
 * binary-search the restarts and scan at most that many entries.
 *
 * <pre>
 * entry:   varint shared | varint unshared | varint valueLength | kind (1 byte)
 *          | key[shared..] | value
 * payload: entry* | restartOffset (int32)* | restartCount (int32)
 * </pre>
 */
final class BlockBuilder {

  static final int RESTART_INTERVAL = 16;

  private final ByteArrayBuilder out;
  private int[] restarts = new int[64];
  private int restartCount;
  private int entriesSinceRestart;
  private byte[] lastKey = new byte[0];
  private int entries;

  BlockBuilder(int expectedSize) {
    out = new ByteArrayBuilder(expectedSize + expectedSize / 4);
  }

  void add(byte[] key, EntryKind kind, byte[] value) {
    int shared = 0;
    if (entriesSinceRestart < RESTART_INTERVAL && entries > 0) {
      int max = Math.min(lastKey.length, key.length);
      int mismatch = Arrays.mismatch(lastKey, 0, max, key, 0, max);
      shared = mismatch < 0 ? max : mismatch;
    } else {
      if (restartCount == restarts.length) {
        restarts = Arrays.copyOf(restarts, restartCount * 2);
      }
      restarts[restartCount++] = out.size();
      entriesSinceRestart = 0;
    }
    out.writeVarLong(shared).writeVarLong(key.length - shared).writeVarLong(value.length)
        .writeByte(kind.code()).writeBytes(key, shared, key.length - shared).writeBytes(value);
    entriesSinceRestart++;
    entries++;
    lastKey = key;
  }

  boolean isEmpty() {
    return entries == 0;
  }

  byte[] lastKey() {
    return lastKey;
  }

  /** The payload size if the block were finished now. */
  int estimatedSize() {
    return out.size() + 4 * restartCount + 4;
  }

  /** Appends the restart array and returns the payload; the builder is then reset. */
  byte[] finish() {
    for (int i = 0; i < restartCount; i++) {
      out.writeInt(restarts[i]);
    }
    out.writeInt(restartCount);
    byte[] payload = out.toByteArray();
    out.reset();
    restartCount = 0;
    entriesSinceRestart = 0;
    entries = 0;
    lastKey = new byte[0];
    return payload;
  }
}
