package io.stratus.store.sst;

import java.util.Arrays;

/**
 * An append-only byte buffer with the encodings of the SST format: varints (LEB128, unsigned),
 * fixed big-endian integers and length-prefixed byte strings.
 */
public final class ByteArrayBuilder {

  private byte[] buffer;
  private int size;

  public ByteArrayBuilder(int initialCapacity) {
    buffer = new byte[Math.max(16, initialCapacity)];
  }

  public int size() {
    return size;
  }

  public void reset() {
    size = 0;
  }

  public ByteArrayBuilder writeByte(int b) {
    ensure(1);
    buffer[size++] = (byte) b;
    return this;
  }

  public ByteArrayBuilder writeBytes(byte[] data) {
    return writeBytes(data, 0, data.length);
  }

  public ByteArrayBuilder writeBytes(byte[] data, int offset, int length) {
    ensure(length);
    System.arraycopy(data, offset, buffer, size, length);
    size += length;
    return this;
  }

  /** A varint length followed by the bytes. */
  public ByteArrayBuilder writeLengthPrefixed(byte[] data) {
    writeVarLong(data.length);
    return writeBytes(data);
  }

  public ByteArrayBuilder writeVarLong(long value) {
    if (value < 0) {
      throw new IllegalArgumentException("varints are unsigned, got " + value);
    }
    ensure(10);
    while ((value & ~0x7FL) != 0) {
      buffer[size++] = (byte) ((value & 0x7F) | 0x80);
      value >>>= 7;
    }
    buffer[size++] = (byte) value;
    return this;
  }

  public ByteArrayBuilder writeInt(int value) {
    ensure(4);
    buffer[size++] = (byte) (value >>> 24);
    buffer[size++] = (byte) (value >>> 16);
    buffer[size++] = (byte) (value >>> 8);
    buffer[size++] = (byte) value;
    return this;
  }

  public ByteArrayBuilder writeLong(long value) {
    writeInt((int) (value >>> 32));
    return writeInt((int) value);
  }

  /** A copy of the content. */
  public byte[] toByteArray() {
    return Arrays.copyOf(buffer, size);
  }

  /** The backing array; valid up to {@link #size()} until the next write. */
  byte[] array() {
    return buffer;
  }

  private void ensure(int more) {
    if (size + more > buffer.length) {
      long wanted = Math.max((long) buffer.length * 2, (long) size + more);
      if (wanted > Integer.MAX_VALUE - 8) {
        throw new IllegalStateException("buffer would exceed 2 GiB");
      }
      buffer = Arrays.copyOf(buffer, (int) wanted);
    }
  }
}
