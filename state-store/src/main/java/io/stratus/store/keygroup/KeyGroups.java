package io.stratus.store.keygroup;

/**
 * Key-group arithmetic shared by every module: which key group a key falls into, which subtask
 * owns a key group, and the two-byte prefix that starts every state key.
 *
 * <p>The key group of a key is its serialized bytes' murmur3 hash modulo {@code maxParallelism},
 * so it is the same in every JVM and for every language binding (unlike {@code hashCode()}).
 */
public final class KeyGroups {

  /** Flink's default, a good fit for up to a few dozen subtasks. */
  public static final int DEFAULT_MAX_PARALLELISM = 128;

  private KeyGroups() {}

  /** The key group of a key given as its serialized bytes. */
  public static int keyGroupOf(byte[] serializedKey, int maxParallelism) {
    return Math.floorMod(Murmur3.hash32(serializedKey, 0, serializedKey.length, 0), maxParallelism);
  }

  /** The subtask that owns {@code keyGroup}: {@code keyGroup * parallelism / maxParallelism}. */
  public static int subtaskOf(int keyGroup, int maxParallelism, int parallelism) {
    return keyGroup * parallelism / maxParallelism;
  }

  /** Rejects a parallelism outside {@code 1..maxParallelism}, naming both. */
  public static void checkParallelism(int maxParallelism, int parallelism) {
    if (maxParallelism < 1 || maxParallelism > KeyGroupRange.MAX_KEY_GROUPS) {
      throw new IllegalArgumentException("maxParallelism must be in [1, "
          + KeyGroupRange.MAX_KEY_GROUPS + "], was " + maxParallelism);
    }
    if (parallelism < 1 || parallelism > maxParallelism) {
      throw new IllegalArgumentException("parallelism must be in [1, " + maxParallelism
          + "] (maxParallelism), was " + parallelism);
    }
  }

  /** The two big-endian bytes that start every state key of {@code keyGroup}. */
  public static byte[] prefix(int keyGroup) {
    return new byte[] {(byte) (keyGroup >>> 8), (byte) keyGroup};
  }

  /** The key group a state key starts with. */
  public static int keyGroupOfStateKey(byte[] stateKey) {
    if (stateKey.length < 2) {
      throw new IllegalArgumentException(
          "a state key starts with a 2-byte key group, this one has " + stateKey.length + " bytes");
    }
    return ((stateKey[0] & 0xFF) << 8) | (stateKey[1] & 0xFF);
  }
}
