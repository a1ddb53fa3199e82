package io.stratus.bench;

import io.stratus.store.keygroup.KeyGroups;

/** State keys and values of the benchmarks: a key group, then an 8-byte id; 100-byte values. */
public final class BenchKeys {

  public static final int VALUE_BYTES = 100;

  private BenchKeys() {}

  /** The key of {@code id}: its key group (murmur3 of the id's bytes), then the id. */
  public static byte[] key(long id, int maxParallelism) {
    byte[] user = new byte[8];
    for (int i = 0; i < 8; i++) {
      user[i] = (byte) (id >>> (56 - 8 * i));
    }
    return withKeyGroup(KeyGroups.keyGroupOf(user, maxParallelism), user);
  }

  /** The key of id {@code id} placed in {@code keyGroup}, for loading keys in sorted order. */
  public static byte[] keyInGroup(int keyGroup, long id) {
    byte[] user = new byte[8];
    for (int i = 0; i < 8; i++) {
      user[i] = (byte) (id >>> (56 - 8 * i));
    }
    return withKeyGroup(keyGroup, user);
  }

  private static byte[] withKeyGroup(int keyGroup, byte[] user) {
    byte[] key = new byte[2 + user.length];
    key[0] = (byte) (keyGroup >>> 8);
    key[1] = (byte) keyGroup;
    System.arraycopy(user, 0, key, 2, user.length);
    return key;
  }

  /**
   * The value a read-modify-write writes after {@code previous} (null: the key is new): the
   * next version of the key's value.
   */
  public static byte[] nextValue(long key, byte[] previous) {
    return value(key, previous == null ? 0 : previous[0] + 1);
  }

  /** A value with some variety, so that nothing compresses it away. */
  public static byte[] value(long id, int version) {
    byte[] v = new byte[VALUE_BYTES];
    long x = id * 0x9E3779B97F4A7C15L + version;
    for (int i = 0; i < v.length; i++) {
      x ^= x << 13;
      x ^= x >>> 7;
      x ^= x << 17;
      v[i] = (byte) x;
    }
    return v;
  }
}
