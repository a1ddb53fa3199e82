package io.stratus.runtime.serde;


/**
 * Turns values into bytes and back: for keys (whose bytes decide the key group, so they must be
 * deterministic), state values and records crossing tasks (every edge between operators that is
 * not chained carries records as bytes). Built-ins are in {@link Serdes}; {@link Serdes#of}
 * derives one for records, enums, primitives, strings, lists and maps. The encoding is written
 * to {@link BytesOut} and read from {@link BytesIn}. Serializable, because functions that hold
 * serdes are copied to each task by serialization.
 *
 * @param <T> the value type
 */
public interface Serde<T> extends java.io.Serializable {

  /** Appends {@code value}'s encoding to {@code out}. */
  void write(T value, BytesOut out);

  /** Reads one value from {@code in}, advancing it past the value's encoding. */
  T read(BytesIn in);

  /** The encoding of {@code value} as an array. */
  default byte[] toBytes(T value) {
    BytesOut out = new BytesOut(32);
    write(value, out);
    return out.toByteArray();
  }

  /** Reads the value an array holds, failing if bytes are left over. */
  default T fromBytes(byte[] bytes) {
    BytesIn in = new BytesIn(bytes);
    T value = read(in);
    if (in.hasRemaining()) {
      throw new IllegalArgumentException("serde left " + (bytes.length - in.position())
          + " of " + bytes.length + " bytes unread: the bytes were written by another type");
    }
    return value;
  }
}
