package io.stratus.runtime.serde;

import java.util.Arrays;

/**
 * Where a {@link Serde} writes: an append-only byte buffer with varints (LEB128, unsigned),
 * fixed big-endian integers (so unsigned byte order is numeric order for non-negative values)
 * and length-prefixed byte strings. This is the encoding of records between tasks and of state
 * values; it is Stratus's public serde format, independent of the store's file format.
 */
public final class BytesOut {

  private byte[] buffer;
  private int size;

  public BytesOut(int initialCapacity) {
    buffer = new byte[Math.max(16, initialCapacity)];
  }

  public BytesOut writeByte(int b) {
    ensure(1);
    buffer[size++] = (byte) b;
    return this;
  }

  public BytesOut writeBytes(byte[] data) {
    return writeBytes(data, 0, data.length);
  }

  public BytesOut writeBytes(byte[] data, int offset, int length) {
    ensure(length);
    System.arraycopy(data, offset, buffer, size, length);
    size += length;
    return this;
  }

  /** A varint length followed by the bytes. */
  public BytesOut writeLengthPrefixed(byte[] data) {
    writeVarLong(data.length);
    return writeBytes(data);
  }

  /** An unsigned varint: 1 byte up to 127, 10 at most. */
  public BytesOut writeVarLong(long value) {
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

  public BytesOut writeInt(int value) {
    ensure(4);
    buffer[size++] = (byte) (value >>> 24);
    buffer[size++] = (byte) (value >>> 16);
    buffer[size++] = (byte) (value >>> 8);
    buffer[size++] = (byte) value;
    return this;
  }

  public BytesOut writeLong(long value) {
    writeInt((int) (value >>> 32));
    return writeInt((int) value);
  }

  /** A copy of what was written. */
  public byte[] toByteArray() {
    return Arrays.copyOf(buffer, size);
  }

  private void ensure(int more) {
    if (size + more > buffer.length) {
      long wanted = Math.max((long) buffer.length * 2, (long) size + more);
      if (wanted > Integer.MAX_VALUE - 8) {
        throw new IllegalStateException("a serialized value would exceed 2 GiB");
      }
      buffer = Arrays.copyOf(buffer, (int) wanted);
    }
  }
}
