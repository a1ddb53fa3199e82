package io.stratus.store.sst;

import java.util.Arrays;
import java.util.NoSuchElementException;
import java.util.zip.CRC32C;

/**
 * A verified block of an SST file (the format of {@link BlockBuilder}), read in place from its
 * bytes: a point lookup binary-searches the restart points and decodes at most one restart
 * interval, without copying anything but the entry it returns.
 */
public final class Block {

  /** Every stored block ends with the CRC32C of its payload. */
  public static final int TRAILER_BYTES = 4;

  private final byte[] data;
  private final int restartsOffset;
  private final int restartCount;
  private final String file;
  private final long fileOffset;

  private Block(byte[] data, int payloadLength, String file, long fileOffset) {
    this.data = data;
    this.file = file;
    this.fileOffset = fileOffset;
    if (payloadLength < 4) {
      throw new CorruptSstException(file, fileOffset, "block of " + payloadLength + " bytes");
    }
    int count = readInt(data, payloadLength - 4);
    long restarts = (long) payloadLength - 4 - 4L * count;
    if (count < 0 || restarts < 0) {
      throw new CorruptSstException(file, fileOffset, "bad restart count " + count);
    }
    this.restartCount = count;
    this.restartsOffset = (int) restarts;
  }

  /**
   * Checks a stored block (payload and CRC32C trailer) and wraps it.
   *
   * @throws CorruptSstException naming {@code file} and {@code fileOffset} if the checksum fails
   */
  public static Block verify(byte[] stored, String file, long fileOffset) {
    return new Block(stored, verifiedPayloadLength(stored, file, fileOffset), file, fileOffset);
  }

  /** Wraps a stored block whose checksum was verified when it was loaded. */
  public static Block ofVerified(byte[] stored, String file, long fileOffset) {
    return new Block(stored, stored.length - TRAILER_BYTES, file, fileOffset);
  }

  /** Checks a stored block's CRC32C trailer and returns its payload length. */
  public static int verifiedPayloadLength(byte[] stored, String file, long fileOffset) {
    return verifiedPayloadLength(stored, 0, stored.length, file, fileOffset);
  }

  static int verifiedPayloadLength(byte[] buf, int from, int length, String file, long fileOffset) {
    if (length < TRAILER_BYTES) {
      throw new CorruptSstException(file, fileOffset, "block of " + length + " bytes");
    }
    int payload = length - TRAILER_BYTES;
    CRC32C crc = new CRC32C();
    crc.update(buf, from, payload);
    int expected = readInt(buf, from + payload);
    if ((int) crc.getValue() != expected) {
      throw new CorruptSstException(file, fileOffset, String.format(
          "block checksum mismatch (stored %08x, computed %08x, %d bytes)", expected,
          (int) crc.getValue(), length));
    }
    return payload;
  }

  /** The entry of exactly {@code key}, or {@code null}. */
  public SstEntry find(byte[] key) {
    try {
      int restart = lastRestartAtOrBefore(key);
      if (restart < 0) {
        return null;
      }
      Cursor c = new Cursor(restartOffset(restart));
      while (c.position < restartsOffset) {
        c.next();
        int cmp = Arrays.compareUnsigned(c.key, 0, c.keyLength, key, 0, key.length);
        if (cmp == 0) {
          return c.entry();
        }
        if (cmp > 0) {
          return null;
        }
      }
      return null;
    } catch (RuntimeException e) {
      throw malformed(e);
    }
  }

  /** Iterates the entries with keys {@code >= from} (all entries when {@code from} is null). */
  public Iterator iterator(byte[] from) {
    try {
      int start = 0;
      if (from != null) {
        int restart = lastRestartAtOrBefore(from);
        start = restart < 0 ? 0 : restartOffset(restart);
      }
      Iterator it = new Iterator(start);
      if (from != null) {
        it.skipBelow(from);
      }
      return it;
    } catch (RuntimeException e) {
      throw malformed(e);
    }
  }

  private CorruptSstException malformed(RuntimeException e) {
    if (e instanceof CorruptSstException c) {
      return c;
    }
    return new CorruptSstException(file, fileOffset, "malformed block: " + e.getMessage(), e);
  }

  private int restartOffset(int i) {
    return readInt(data, restartsOffset + 4 * i);
  }

  /** Index of the last restart whose key is {@code <= key}, or -1 if the first key is greater. */
  private int lastRestartAtOrBefore(byte[] key) {
    int lo = 0;
    int hi = restartCount - 1;
    int found = -1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      int p = restartOffset(mid);
      ByteReader r = new ByteReader(data, p, restartsOffset);
      if (r.readVarInt() != 0) {
        throw new IllegalStateException("restart entry with a shared prefix");
      }
      int keyLength = r.readVarInt();
      r.readVarInt();
      r.readByte();
      int keyStart = r.position();
      int cmp = Arrays.compareUnsigned(data, keyStart, keyStart + keyLength, key, 0, key.length);
      if (cmp <= 0) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  private static int readInt(byte[] b, int at) {
    return ((b[at] & 0xFF) << 24) | ((b[at + 1] & 0xFF) << 16) | ((b[at + 2] & 0xFF) << 8)
        | (b[at + 3] & 0xFF);
  }

  /** Decodes entries one after the other, rebuilding prefix-compressed keys. */
  private class Cursor {
    int position;
    byte[] key = new byte[32];
    int keyLength;
    EntryKind kind;
    int valueOffset;
    int valueLength;

    Cursor(int position) {
      this.position = position;
    }

    void next() {
      ByteReader r = new ByteReader(data, position, restartsOffset);
      int shared = r.readVarInt();
      int unshared = r.readVarInt();
      valueLength = r.readVarInt();
      kind = EntryKind.ofCode((byte) r.readByte());
      if (kind == null || shared > keyLength) {
        throw new IllegalStateException("bad entry at " + position);
      }
      int length = shared + unshared;
      if (length > key.length) {
        key = Arrays.copyOf(key, Math.max(length, key.length * 2));
      }
      int keyStart = r.position();
      if (keyStart + unshared + valueLength > restartsOffset) {
        throw new IllegalStateException("entry at " + position + " runs past the block");
      }
      System.arraycopy(data, keyStart, key, shared, unshared);
      keyLength = length;
      valueOffset = keyStart + unshared;
      position = valueOffset + valueLength;
    }

    SstEntry entry() {
      return new SstEntry(Arrays.copyOf(key, keyLength), kind,
          Arrays.copyOfRange(data, valueOffset, valueOffset + valueLength));
    }
  }

  /** Entries of the block in key order. */
  public final class Iterator {
    private final Cursor cursor;
    private SstEntry pending;

    private Iterator(int start) {
      cursor = new Cursor(start);
    }

    private void skipBelow(byte[] from) {
      while (cursor.position < restartsOffset) {
        cursor.next();
        if (Arrays.compareUnsigned(cursor.key, 0, cursor.keyLength, from, 0, from.length) >= 0) {
          pending = cursor.entry();
          return;
        }
      }
    }

    public boolean hasNext() {
      return pending != null || cursor.position < restartsOffset;
    }

    public SstEntry next() {
      if (pending != null) {
        SstEntry e = pending;
        pending = null;
        return e;
      }
      if (cursor.position >= restartsOffset) {
        throw new NoSuchElementException();
      }
      try {
        cursor.next();
      } catch (RuntimeException e) {
        throw malformed(e);
      }
      return cursor.entry();
    }
  }
}
