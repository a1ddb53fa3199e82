package io.stratus.runtime.serde;

/**
 * Where a {@link Serde} reads: the encodings of {@link BytesOut} from a slice of an array. Reads
 * past the slice fail with {@link IndexOutOfBoundsException}, malformed varints with
 * {@link IllegalStateException}: bytes written by another type are never silently taken.
 */
public final class BytesIn {

  private final byte[] data;
  private final int limit;
  private int position;

  public BytesIn(byte[] data, int offset, int limit) {
    if (offset < 0 || limit > data.length || offset > limit) {
      throw new IndexOutOfBoundsException(
          "slice [" + offset + ", " + limit + ") of an array of " + data.length);
    }
    this.data = data;
    this.position = offset;
    this.limit = limit;
  }

  /** All of {@code data}. */
  public BytesIn(byte[] data) {
    this(data, 0, data.length);
  }

  public int position() {
    return position;
  }

  public boolean hasRemaining() {
    return position < limit;
  }

  public int readByte() {
    check(1);
    return data[position++] & 0xFF;
  }

  public long readVarLong() {
    long result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      int b = readByte();
      result |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        return result;
      }
    }
    throw new IllegalStateException("varint longer than 10 bytes at " + position);
  }

  public int readVarInt() {
    long v = readVarLong();
    if (v > Integer.MAX_VALUE) {
      throw new IllegalStateException("varint " + v + " too large at " + position);
    }
    return (int) v;
  }

  public int readInt() {
    check(4);
    int v = ((data[position] & 0xFF) << 24) | ((data[position + 1] & 0xFF) << 16)
        | ((data[position + 2] & 0xFF) << 8) | (data[position + 3] & 0xFF);
    position += 4;
    return v;
  }

  public long readLong() {
    return ((long) readInt() << 32) | (readInt() & 0xFFFFFFFFL);
  }

  public byte[] readBytes(int length) {
    check(length);
    byte[] out = new byte[length];
    System.arraycopy(data, position, out, 0, length);
    position += length;
    return out;
  }

  /** The bytes up to the end of the slice: for encodings that are a whole message. */
  public byte[] readRemaining() {
    return readBytes(limit - position);
  }

  public byte[] readLengthPrefixed() {
    return readBytes(readVarInt());
  }

  private void check(int n) {
    if (n < 0 || position + n > limit) {
      throw new IndexOutOfBoundsException(
          "reading " + n + " bytes at " + position + " past the end " + limit);
    }
  }
}
