package io.stratus.store.sst;

/**
 * Reads the encodings of {@link ByteArrayBuilder} from an array slice, failing with
 * {@link IndexOutOfBoundsException} or {@link IllegalStateException} on malformed input, which
 * callers turn into a {@link CorruptSstException} naming the file and offset.
 */
public final class ByteReader {

  private final byte[] data;
  private final int limit;
  private int position;

  public ByteReader(byte[] data, int offset, int limit) {
    if (offset < 0 || limit > data.length || offset > limit) {
      throw new IndexOutOfBoundsException(
          "slice [" + offset + ", " + limit + ") of an array of " + data.length);
    }
    this.data = data;
    this.position = offset;
    this.limit = limit;
  }

  public int position() {
    return position;
  }

  public void position(int value) {
    if (value < 0 || value > limit) {
      throw new IndexOutOfBoundsException("position " + value + " outside [0, " + limit + "]");
    }
    position = value;
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
