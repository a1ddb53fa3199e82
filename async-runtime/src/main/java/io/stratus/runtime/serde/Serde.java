package io.stratus.runtime.serde;

import io.stratus.store.sst.ByteArrayBuilder;
import io.stratus.store.sst.ByteReader;

/**
 * Turns values into bytes and back: for keys (whose bytes decide the key group, so they must be
 * deterministic), state values and records crossing tasks. Built-ins are in {@link Serdes};
 * {@link Serdes#record} derives one for a Java record from its components. Serializable, because
 * functions that hold serdes are copied to each task by serialization.
 *
 * @param <T> the value type
 */
public interface Serde<T> extends java.io.Serializable {

  /** Appends {@code value}'s encoding to {@code out}. */
  void write(T value, ByteArrayBuilder out);

  /** Reads one value from {@code in}, advancing it past the value's encoding. */
  T read(ByteReader in);

  /** The encoding of {@code value} as an array. */
  default byte[] toBytes(T value) {
    ByteArrayBuilder out = new ByteArrayBuilder(32);
    write(value, out);
    return out.toByteArray();
  }

  /** Reads the value an array holds, failing if bytes are left over. */
  default T fromBytes(byte[] bytes) {
    ByteReader in = new ByteReader(bytes, 0, bytes.length);
    T value = read(in);
    if (in.hasRemaining()) {
      throw new IllegalArgumentException("serde left " + (bytes.length - in.position())
          + " of " + bytes.length + " bytes unread: the bytes were written by another type");
    }
    return value;
  }
}
