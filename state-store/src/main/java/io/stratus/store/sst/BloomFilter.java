package io.stratus.store.sst;

import io.stratus.store.keygroup.Murmur3;

/**
 * A Bloom filter over the keys of one SST file, with double hashing from one 32-bit murmur3
 * hash (the scheme of LevelDB). At 10 bits per key it answers "maybe" for about 1% of absent
 * keys, so a point read skips nearly every file that does not hold its key without fetching a
 * block. The serialized form is the bit array followed by one byte with the probe count.
 */
public final class BloomFilter {

  private static final int SEED = 0xbc9f1d34;

  private final byte[] data;
  private final long bits;
  private final int probes;

  private BloomFilter(byte[] data) {
    this.data = data;
    this.bits = (long) (data.length - 1) * 8;
    this.probes = data[data.length - 1];
  }

  /** Reads a serialized filter; {@code null} if it is malformed. */
  static BloomFilter parse(byte[] serialized) {
    if (serialized.length < 2 || serialized[serialized.length - 1] < 1
        || serialized[serialized.length - 1] > 30) {
      return null;
    }
    return new BloomFilter(serialized);
  }

  /** The hash a filter is built from and probed with. */
  public static int hash(byte[] key) {
    return Murmur3.hash32(key, 0, key.length, SEED);
  }

  /** Builds the serialized filter for {@code count} key hashes. */
  static byte[] build(int[] hashes, int count, int bitsPerKey) {
    int probes = Math.max(1, Math.min(30, (int) Math.round(bitsPerKey * 0.69)));
    long bitCount = Math.max(64, (long) count * bitsPerKey);
    int bytes = (int) ((bitCount + 7) / 8);
    bitCount = (long) bytes * 8;
    byte[] out = new byte[bytes + 1];
    out[bytes] = (byte) probes;
    for (int i = 0; i < count; i++) {
      int h = hashes[i];
      int delta = Integer.rotateRight(h, 17);
      for (int j = 0; j < probes; j++) {
        long position = (h & 0xFFFFFFFFL) % bitCount;
        out[(int) (position >>> 3)] |= (byte) (1 << (position & 7));
        h += delta;
      }
    }
    return out;
  }

  /** {@code false} if the key is certainly absent. */
  public boolean mayContain(byte[] key) {
    return mayContainHash(hash(key));
  }

  public boolean mayContainHash(int hash) {
    int h = hash;
    int delta = Integer.rotateRight(h, 17);
    for (int j = 0; j < probes; j++) {
      long position = (h & 0xFFFFFFFFL) % bits;
      if ((data[(int) (position >>> 3)] & (1 << (position & 7))) == 0) {
        return false;
      }
      h += delta;
    }
    return true;
  }

  /** Heap bytes held. */
  public int sizeBytes() {
    return data.length;
  }
}
