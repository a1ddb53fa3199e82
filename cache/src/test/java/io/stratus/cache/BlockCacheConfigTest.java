package io.stratus.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlockCacheConfigTest {

  private static final BlockCacheConfig BASE = BlockCacheConfig.defaults();

  @Test
  void defaultsAreTheDocumentedLaptopSizes() {
    assertEquals(256L << 20, BASE.memoryBytes());
    assertEquals(1L << 30, BASE.diskBytes());
    assertNull(BASE.diskDirectory());
    assertEquals(DiskWritePolicy.WRITE_ON_EVICT, BASE.diskWritePolicy());
    assertEquals(0, BlockCacheConfig.memoryOnly(2L << 20).diskBytes());
    assertEquals(2L << 20, BlockCacheConfig.memoryOnly(2L << 20).memoryBytes());
  }

  @Test
  void withersChangeOnlyTheirField(@TempDir Path dir) {
    BlockCacheConfig c = BASE.withMemoryBytes(3L << 20).withDiskBytes(7).withDiskDirectory(dir)
        .withDiskWritePolicy(DiskWritePolicy.WRITE_THROUGH).withDiskReadThreads(5)
        .withMaxPendingWriteBytes(11);
    assertEquals(new BlockCacheConfig(3L << 20, 7, dir, DiskWritePolicy.WRITE_THROUGH, 5, 11), c);
  }

  @Test
  void memoryBelowOneMebibyteIsRejectedWithTheValue() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BASE.withMemoryBytes((1 << 20) - 1));
    assertEquals("cache memoryBytes must be at least 1 MiB, was 1048575", e.getMessage());
    // The boundary itself is valid.
    assertEquals(1 << 20, BASE.withMemoryBytes(1 << 20).memoryBytes());
  }

  @Test
  void negativeDiskBytesAreRejectedButZeroTurnsTheDiskOff() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BASE.withDiskBytes(-1));
    assertEquals("cache diskBytes must be >= 0, was -1", e.getMessage());
    try (HybridBlockCache cache = new HybridBlockCache(BASE.withMemoryBytes(1 << 20)
        .withDiskBytes(0))) {
      assertEquals(false, cache.diskActive());
    }
  }

  @Test
  void missingPolicyIsNamed() {
    NullPointerException e = assertThrows(NullPointerException.class,
        () -> BASE.withDiskWritePolicy(null));
    assertEquals("diskWritePolicy", e.getMessage());
  }

  @Test
  void readThreadsMustBePositive() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BASE.withDiskReadThreads(0));
    assertEquals("cache diskReadThreads must be >= 1, was 0", e.getMessage());
  }

  @Test
  void pendingWriteBytesMustNotBeNegative() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BASE.withMaxPendingWriteBytes(-5));
    assertEquals("cache maxPendingWriteBytes must be >= 0, was -5", e.getMessage());
  }

  @Test
  void unusableDiskDirectoryFailsConstructionNamingTheDirectory(@TempDir Path dir)
      throws Exception {
    Path notADirectory = Files.writeString(dir.resolve("plain-file"), "x");
    UncheckedIOException e = assertThrows(UncheckedIOException.class,
        () -> new HybridBlockCache(BASE.withMemoryBytes(1 << 20).withDiskBytes(1 << 20)
            .withDiskDirectory(notADirectory)));
    assertTrue(e.getMessage().contains(notADirectory.toString()), e.getMessage());
  }

  @Test
  void blockKeyValidation() {
    assertEquals("offset must be >= 0, was -1 in f",
        assertThrows(IllegalArgumentException.class, () -> new BlockKey("f", -1, 1))
            .getMessage());
    assertEquals("length must be > 0, was 0 in f",
        assertThrows(IllegalArgumentException.class, () -> new BlockKey("f", 0, 0))
            .getMessage());
    assertEquals("file",
        assertThrows(NullPointerException.class, () -> new BlockKey(null, 0, 1)).getMessage());
    assertEquals("f@4096+512", new BlockKey("f", 4096, 512).toString());
  }
}
