package io.stratus.store.sst;

import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.keygroup.KeyGroups;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * Writes one SST file into memory from entries given in strictly increasing key order. The
 * result is uploaded as a single object; SST files are at most a few tens of MiB, so holding one
 * in memory is cheaper than a multipart upload.
 */
public final class SstWriter {

  private final String file;
  private final int blockSize;
  private final int bloomBitsPerKey;
  private final ByteArrayBuilder out;
  private final BlockBuilder block;
  private final BlockBuilder index = new BlockBuilder(4096);
  private int[] hashes = new int[1024];
  private long entries;
  private long deletes;
  private long merges;
  private int dataBlocks;
  private byte[] smallest;
  private byte[] last;

  /**
   * @param file            the file's name, for error messages
   * @param blockSize       target payload size of data blocks
   * @param bloomBitsPerKey Bloom filter bits per key (10 gives about 1% false positives)
   * @param expectedBytes   a size hint for the output buffer
   */
  public SstWriter(String file, int blockSize, int bloomBitsPerKey, int expectedBytes) {
    if (blockSize < 256) {
      throw new IllegalArgumentException("block size must be >= 256 bytes, was " + blockSize);
    }
    if (bloomBitsPerKey < 1) {
      throw new IllegalArgumentException("bloom bits per key must be >= 1, was " + bloomBitsPerKey);
    }
    this.file = file;
    this.blockSize = blockSize;
    this.bloomBitsPerKey = bloomBitsPerKey;
    this.out = new ByteArrayBuilder(expectedBytes);
    this.block = new BlockBuilder(blockSize);
  }

  /** Adds an entry; keys must be strictly increasing and start with a key group. */
  public void add(byte[] key, EntryKind kind, byte[] value) {
    if (last != null && Arrays.compareUnsigned(last, key) >= 0) {
      throw new IllegalArgumentException("keys must be strictly increasing in " + file);
    }
    KeyGroups.keyGroupOfStateKey(key);
    if (smallest == null) {
      smallest = key;
    }
    block.add(key, kind, kind == EntryKind.DELETE ? new byte[0] : value);
    if (entries == hashes.length) {
      hashes = Arrays.copyOf(hashes, hashes.length * 2);
    }
    hashes[(int) entries] = BloomFilter.hash(key);
    entries++;
    if (kind == EntryKind.DELETE) {
      deletes++;
    } else if (kind == EntryKind.MERGE) {
      merges++;
    }
    last = key;
    if (block.estimatedSize() >= blockSize) {
      flushBlock();
    }
  }

  public boolean isEmpty() {
    return entries == 0;
  }

  public long entryCount() {
    return entries;
  }

  /** Bytes the file would have if finished now, without the metadata. */
  public long estimatedSize() {
    return out.size() + block.estimatedSize();
  }

  /** Ends the file; the writer must not be used afterwards. */
  public Result finish() {
    if (entries == 0) {
      throw new IllegalStateException("an SST file needs at least one entry: " + file);
    }
    if (!block.isEmpty()) {
      flushBlock();
    }
    long metaOffset = out.size();
    long filterOffset = out.size();
    int filterLength = writeBlock(BloomFilter.build(hashes, (int) entries, bloomBitsPerKey));
    long indexOffset = out.size();
    int indexLength = writeBlock(index.finish());
    KeyGroupRange keyGroups = KeyGroupRange.of(KeyGroups.keyGroupOfStateKey(smallest),
        KeyGroups.keyGroupOfStateKey(last));
    ByteArrayBuilder props = new ByteArrayBuilder(128 + smallest.length + last.length);
    props.writeVarLong(entries).writeVarLong(deletes).writeVarLong(merges)
        .writeVarLong(dataBlocks).writeVarLong(keyGroups.start()).writeVarLong(keyGroups.end())
        .writeLengthPrefixed(smallest).writeLengthPrefixed(last).writeVarLong(metaOffset);
    long propsOffset = out.size();
    int propsLength = writeBlock(props.toByteArray());
    int footerStart = out.size();
    out.writeLong(filterOffset).writeInt(filterLength)
        .writeLong(indexOffset).writeInt(indexLength)
        .writeLong(propsOffset).writeInt(propsLength)
        .writeInt(SstFormat.FORMAT_VERSION);
    CRC32C crc = new CRC32C();
    crc.update(out.array(), footerStart, out.size() - footerStart);
    out.writeInt((int) crc.getValue()).writeLong(SstFormat.MAGIC);
    byte[] bytes = out.toByteArray();
    return new Result(bytes, new SstProperties(entries, deletes, merges, dataBlocks, smallest,
        last, keyGroups, metaOffset, bytes.length));
  }

  private void flushBlock() {
    long offset = out.size();
    byte[] lastKey = block.lastKey();
    int length = writeBlock(block.finish());
    ByteArrayBuilder handle = new ByteArrayBuilder(16);
    handle.writeVarLong(offset).writeVarLong(length);
    index.add(lastKey, EntryKind.PUT, handle.toByteArray());
    dataBlocks++;
  }

  private int writeBlock(byte[] payload) {
    CRC32C crc = new CRC32C();
    crc.update(payload);
    out.writeBytes(payload).writeInt((int) crc.getValue());
    return payload.length + Block.TRAILER_BYTES;
  }

  /**
   * A finished file.
   *
   * @param bytes      the whole file
   * @param properties what the file says about itself
   */
  public record Result(byte[] bytes, SstProperties properties) {}
}
