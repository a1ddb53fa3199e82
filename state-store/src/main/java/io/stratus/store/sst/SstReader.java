package io.stratus.store.sst;

import io.stratus.store.keygroup.KeyGroupRange;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The part of an SST file a reader keeps while the file is live: the Bloom filter, the block
 * index and the properties, all parsed from the file's tail (one ranged read of
 * {@code [metaOffset, fileSize)}). Data blocks are fetched separately, through the block cache.
 * Immutable and thread-safe.
 */
public final class SstReader {

  private final String file;
  private final BloomFilter filter;
  private final byte[][] lastKeys;
  private final long[] offsets;
  /** Computed once: metrics read it for every file on every heartbeat. */
  private final long pinnedBytes;
  private final int[] lengths;
  private final SstProperties properties;

  private SstReader(String file, BloomFilter filter, byte[][] lastKeys, long[] offsets,
      int[] lengths, SstProperties properties) {
    this.file = file;
    this.filter = filter;
    this.lastKeys = lastKeys;
    this.offsets = offsets;
    this.lengths = lengths;
    this.properties = properties;
    long bytes = filter.sizeBytes() + 12L * offsets.length;
    for (byte[] k : lastKeys) {
      bytes += k.length + 16;
    }
    this.pinnedBytes = bytes;
  }

  /**
   * Parses and verifies a file's tail.
   *
   * @param file       the file's name, for errors
   * @param fileSize   the file's size
   * @param tailOffset where {@code tail} starts in the file (the metaOffset)
   * @param tail       the bytes {@code [tailOffset, fileSize)}
   * @throws CorruptSstException if any checksum, the magic, the version or a structure is wrong
   */
  public static SstReader parse(String file, long fileSize, long tailOffset, byte[] tail) {
    if (tail.length < SstFormat.FOOTER_BYTES || tailOffset + tail.length != fileSize) {
      throw new CorruptSstException(file, tailOffset,
          "tail of " + tail.length + " bytes does not hold a footer of a " + fileSize
              + "-byte file");
    }
    int footerAt = tail.length - SstFormat.FOOTER_BYTES;
    long footerFileOffset = tailOffset + footerAt;
    ByteReader footer = new ByteReader(tail, footerAt, tail.length);
    long filterOffset = footer.readLong();
    int filterLength = footer.readInt();
    long indexOffset = footer.readLong();
    int indexLength = footer.readInt();
    long propsOffset = footer.readLong();
    int propsLength = footer.readInt();
    int version = footer.readInt();
    int storedCrc = footer.readInt();
    long magic = footer.readLong();
    if (magic != SstFormat.MAGIC) {
      throw new CorruptSstException(file, footerFileOffset + 44, String.format(
          "bad magic %016x (not an SST file, or truncated)", magic));
    }
    CRC32C crc = new CRC32C();
    crc.update(tail, footerAt, 40);
    if ((int) crc.getValue() != storedCrc) {
      throw new CorruptSstException(file, footerFileOffset, "footer checksum mismatch");
    }
    if (version != SstFormat.FORMAT_VERSION) {
      throw new CorruptSstException(file, footerFileOffset,
          "format version " + version + " is not supported (this build reads "
              + SstFormat.FORMAT_VERSION + ")");
    }
    byte[] filterBytes = slice(file, tail, tailOffset, filterOffset, filterLength);
    byte[] indexBytes = slice(file, tail, tailOffset, indexOffset, indexLength);
    byte[] propsBytes = slice(file, tail, tailOffset, propsOffset, propsLength);

    int filterPayload = Block.verifiedPayloadLength(filterBytes, file, filterOffset);
    BloomFilter filter = BloomFilter.parse(Arrays.copyOf(filterBytes, filterPayload));
    if (filter == null) {
      throw new CorruptSstException(file, filterOffset, "malformed Bloom filter");
    }

    SstProperties props;
    try {
      int propsPayload = Block.verifiedPayloadLength(propsBytes, file, propsOffset);
      ByteReader r = new ByteReader(propsBytes, 0, propsPayload);
      long entries = r.readVarLong();
      long deletes = r.readVarLong();
      long merges = r.readVarLong();
      int dataBlocks = r.readVarInt();
      int kgStart = r.readVarInt();
      int kgEnd = r.readVarInt();
      byte[] smallest = r.readLengthPrefixed();
      byte[] largest = r.readLengthPrefixed();
      long metaOffset = r.readVarLong();
      props = new SstProperties(entries, deletes, merges, dataBlocks, smallest, largest,
          KeyGroupRange.of(kgStart, kgEnd), metaOffset, fileSize);
    } catch (CorruptSstException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new CorruptSstException(file, propsOffset, "malformed properties: " + e.getMessage(),
          e);
    }

    Block index = Block.verify(indexBytes, file, indexOffset);
    List<byte[]> keys = new ArrayList<>();
    List<long[]> handles = new ArrayList<>();
    Block.Iterator it = index.iterator(null);
    try {
      while (it.hasNext()) {
        SstEntry e = it.next();
        ByteReader h = new ByteReader(e.value(), 0, e.value().length);
        long offset = h.readVarLong();
        long length = h.readVarLong();
        if (offset < 0 || length < Block.TRAILER_BYTES || offset + length > props.metaOffset()) {
          throw new IllegalStateException("block handle [" + offset + ", +" + length
              + ") outside the data region");
        }
        keys.add(e.key());
        handles.add(new long[] {offset, length});
      }
    } catch (CorruptSstException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new CorruptSstException(file, indexOffset, "malformed index: " + e.getMessage(), e);
    }
    if (keys.size() != props.dataBlocks()) {
      throw new CorruptSstException(file, indexOffset, "index lists " + keys.size()
          + " blocks, properties say " + props.dataBlocks());
    }
    long[] offsets = new long[keys.size()];
    int[] lengths = new int[keys.size()];
    for (int i = 0; i < offsets.length; i++) {
      offsets[i] = handles.get(i)[0];
      lengths[i] = (int) handles.get(i)[1];
    }
    return new SstReader(file, filter, keys.toArray(byte[][]::new), offsets, lengths, props);
  }

  private static byte[] slice(String file, byte[] tail, long tailOffset, long offset, int length) {
    long from = offset - tailOffset;
    if (from < 0 || length < 0 || from + length > tail.length - SstFormat.FOOTER_BYTES) {
      throw new CorruptSstException(file, tailOffset + tail.length - SstFormat.FOOTER_BYTES,
          "footer points at [" + offset + ", +" + length + ") outside the file's tail");
    }
    return Arrays.copyOfRange(tail, (int) from, (int) from + length);
  }

  public String file() {
    return file;
  }

  public SstProperties properties() {
    return properties;
  }

  public boolean mayContain(byte[] key) {
    return filter.mayContain(key);
  }

  public boolean mayContainHash(int bloomHash) {
    return filter.mayContainHash(bloomHash);
  }

  public int blockCount() {
    return offsets.length;
  }

  public long blockOffset(int block) {
    return offsets[block];
  }

  public int blockLength(int block) {
    return lengths[block];
  }

  /** The first block whose last key is {@code >= key}, or {@link #blockCount()} if none. */
  public int blockFor(byte[] key) {
    int lo = 0;
    int hi = lastKeys.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (Arrays.compareUnsigned(lastKeys[mid], key) < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** Heap bytes pinned by this reader (filter and index), for metrics. */
  public long pinnedBytes() {
    return pinnedBytes;
  }
}
