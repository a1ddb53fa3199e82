package io.stratus.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The disk tier: one file per block in a local directory, an in-memory index bounded by bytes
 * (Caffeine, so the disk tier evicts with the same policy as memory), and a header with a CRC32C
 * and the block's identity on every file so that a damaged or misplaced file is never returned.
 *
 * <p>Not thread-confined: reads may run on several threads; writes are expected from one thread
 * (the cache's disk writer), which keeps the overshoot of the byte bound to one block.
 */
final class DiskTier {

  private static final Logger LOG = LoggerFactory.getLogger(DiskTier.class);

  static final int MAGIC = 0x53424C4B; // "SBLK"
  static final int HEADER_BYTES = 24;
  static final String SUFFIX = ".blk";

  private record Entry(Path path, int length) {}

  private final Path directory;
  private final DiskIo io;
  private final Cache<BlockKey, Entry> index;
  private final AtomicLong nextFileId = new AtomicLong();
  private final LongAdder evictions = new LongAdder();
  private final LongAdder checksumFailures = new LongAdder();

  DiskTier(Path directory, long maxBytes, DiskIo io) throws IOException {
    this.directory = directory;
    this.io = io;
    Files.createDirectories(directory);
    deleteBlockFiles();
    this.index = Caffeine.newBuilder()
        .maximumWeight(maxBytes)
        .weigher((BlockKey k, Entry e) -> HEADER_BYTES + e.length())
        .executor(Runnable::run)
        .removalListener((BlockKey k, Entry e, RemovalCause cause) -> {
          if (cause.wasEvicted()) {
            evictions.increment();
          }
          if (e != null) {
            deleteQuietly(e.path());
          }
        })
        .build();
  }

  Path directory() {
    return directory;
  }

  boolean contains(BlockKey key) {
    return index.getIfPresent(key) != null;
  }

  /**
   * Returns the block, or {@code null} when the disk tier does not hold it or its file fails
   * verification (the entry is then dropped).
   *
   * @throws IOException when the disk fails for another reason than a missing file
   */
  byte[] read(BlockKey key) throws IOException {
    Entry entry = index.getIfPresent(key);
    if (entry == null) {
      return null;
    }
    byte[] raw;
    try {
      raw = io.read(entry.path());
    } catch (NoSuchFileException e) {
      index.asMap().remove(key, entry);
      return null;
    }
    byte[] data = verify(key, raw);
    if (data == null) {
      checksumFailures.increment();
      LOG.warn("Block cache file {} for {} failed verification; dropped, the block is reloaded",
          entry.path(), key);
      index.asMap().remove(key, entry);
    }
    return data;
  }

  void write(BlockKey key, byte[] data) throws IOException {
    if (data.length != key.length()) {
      throw new IllegalArgumentException(
          "block " + key + " has " + data.length + " bytes, expected " + key.length());
    }
    Path path = directory.resolve(Long.toString(nextFileId.incrementAndGet(), 36) + SUFFIX);
    io.write(path, header(key, data), data);
    index.put(key, new Entry(path, data.length));
    // Evict now, on the writer, rather than whenever Caffeine's maintenance next runs: the files
    // on disk then exceed the bound by at most the block just written.
    index.cleanUp();
  }

  void invalidateFile(String file) {
    index.asMap().keySet().removeIf(k -> k.file().equals(file));
  }

  void clear() {
    index.invalidateAll();
    index.cleanUp();
  }

  long weightedSize() {
    return index.policy().eviction().orElseThrow().weightedSize().orElse(0);
  }

  long maximumSize() {
    return index.policy().eviction().orElseThrow().getMaximum();
  }

  long entryCount() {
    return index.estimatedSize();
  }

  long evictionCount() {
    return evictions.sum();
  }

  long checksumFailureCount() {
    return checksumFailures.sum();
  }

  private static byte[] header(BlockKey key, byte[] data) {
    CRC32C crc = new CRC32C();
    crc.update(data);
    return ByteBuffer.allocate(HEADER_BYTES)
        .putInt(MAGIC)
        .putInt(data.length)
        .putInt((int) crc.getValue())
        .putInt(key.file().hashCode())
        .putLong(key.offset())
        .array();
  }

  private static byte[] verify(BlockKey key, byte[] raw) {
    if (raw.length != HEADER_BYTES + key.length()) {
      return null;
    }
    ByteBuffer header = ByteBuffer.wrap(raw, 0, HEADER_BYTES);
    if (header.getInt() != MAGIC || header.getInt() != key.length()) {
      return null;
    }
    int expectedCrc = header.getInt();
    if (header.getInt() != key.file().hashCode() || header.getLong() != key.offset()) {
      return null;
    }
    CRC32C crc = new CRC32C();
    crc.update(raw, HEADER_BYTES, key.length());
    if ((int) crc.getValue() != expectedCrc) {
      return null;
    }
    byte[] data = new byte[key.length()];
    System.arraycopy(raw, HEADER_BYTES, data, 0, data.length);
    return data;
  }

  private void deleteQuietly(Path path) {
    try {
      io.delete(path);
    } catch (IOException e) {
      LOG.debug("Could not delete block cache file {}: {}", path, e.toString());
    }
  }

  /** Deletes the tier's own files (by suffix) and nothing else in the directory. */
  void deleteBlockFiles() throws IOException {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "*" + SUFFIX)) {
      for (Path file : files) {
        Files.deleteIfExists(file);
      }
    }
  }
}
