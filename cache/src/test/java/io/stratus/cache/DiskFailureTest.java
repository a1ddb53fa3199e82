package io.stratus.cache;

import static io.stratus.cache.TestSupport.await;
import static io.stratus.cache.TestSupport.contentOf;
import static io.stratus.cache.TestSupport.diskWeight;
import static io.stratus.cache.TestSupport.join;
import static io.stratus.cache.TestSupport.key;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.stratus.cache.TestSupport.CountingLoader;
import io.stratus.cache.TestSupport.LogCapture;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** A full or failing disk turns the disk tier off with one log line; reads keep working. */
class DiskFailureTest {

  @TempDir Path dir;

  private static List<BlockKey> keys(int n, int length) {
    List<BlockKey> keys = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      keys.add(key("sst-" + (i % 3), (long) i * length, length));
    }
    return keys;
  }

  private static ILoggingEvent onlyError(LogCapture log) {
    List<ILoggingEvent> errors = log.events(Level.ERROR);
    assertEquals(1, errors.size(), () -> "exactly one line for the degradation, got "
        + errors.stream().map(ILoggingEvent::getFormattedMessage).toList());
    return errors.get(0);
  }

  @ParameterizedTest
  @EnumSource(DiskWritePolicy.class)
  void fullDiskDegradesToMemoryOnly(DiskWritePolicy policy) throws Exception {
    // The cache's own bound (32 MiB) is far above what the filesystem has room for (1 MiB).
    FaultyDiskIo io = FaultyDiskIo.withCapacity(1 << 20);
    CountingLoader store = new CountingLoader();
    List<BlockKey> keys = keys(40, 100 * 1024);
    try (LogCapture log = new LogCapture(HybridBlockCache.class)) {
      HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(1 << 20)
          .withDiskBytes(32L << 20).withDiskDirectory(dir).withDiskWritePolicy(policy), io);
      try {
        for (BlockKey k : keys) {
          assertArrayEquals(contentOf(k), join(cache.get(k, store)));
        }
        await("the disk tier gives up", () -> !cache.diskActive());
        for (int round = 0; round < 3; round++) {
          for (BlockKey k : keys) {
            assertArrayEquals(contentOf(k), join(cache.get(k, store)), k.toString());
          }
        }
        assertTrue(io.failedWrites.get() >= 1);
        assertFalse(cache.metrics().diskActive());
        String line = onlyError(log).getFormattedMessage();
        assertTrue(line.contains("No space left on device"), line);
        assertTrue(line.contains("memory-only"), line);
        assertTrue(line.contains(dir.toString()), line);

        // The degraded tier lets go of its files; afterwards nothing writes to it any more.
        await("the disk tier is emptied", () -> cache.diskBytesUsed() == 0);
        int writes = io.writes.get();
        cache.cleanUp();
        BlockKey notInMemory = keys.stream().filter(k -> cache.getIfPresentInMemory(k) == null)
            .findFirst().orElseThrow();
        int calls = store.calls(notInMemory);
        assertArrayEquals(contentOf(notInMemory), join(cache.get(notInMemory, store)));
        assertEquals(calls + 1, store.calls(notInMemory), "memory-only now: from the store");
        for (BlockKey k : keys) {
          join(cache.get(k, store));
        }
        assertEquals(writes, io.writes.get());
      } finally {
        cache.close();
      }
      // Including the short file the failed write left behind.
      assertEquals(List.of(), TestSupport.blockFiles(dir));
      assertEquals(1, log.events(Level.ERROR).size());
    }
  }

  @Test
  void failingReadsDegradeToMemoryOnlyAndFallBackToTheStore() throws Exception {
    FaultyDiskIo io = FaultyDiskIo.healthy();
    CountingLoader store = new CountingLoader();
    List<BlockKey> keys = keys(8, 300 * 1024);
    try (LogCapture log = new LogCapture(HybridBlockCache.class);
        HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(1 << 20)
            .withDiskBytes(32L << 20).withDiskDirectory(dir).withDiskReadThreads(4)
            .withDiskWritePolicy(DiskWritePolicy.WRITE_ON_EVICT), io)) {
      for (BlockKey k : keys) {
        join(cache.get(k, store));
      }
      cache.cleanUp();
      long evicted = cache.metrics().memory().evictions();
      await("evicted blocks are on disk",
          () -> cache.diskBytesUsed() == evicted * diskWeight(keys.get(0)));
      List<BlockKey> onDisk = keys.stream().filter(k -> cache.getIfPresentInMemory(k) == null)
          .toList();
      assertTrue(onDisk.size() >= 2, "several reads must be able to fail at once");

      io.failReads();
      List<CompletableFuture<byte[]>> reads = new ArrayList<>();
      for (BlockKey k : onDisk) {
        reads.add(cache.get(k, store));
      }
      for (int i = 0; i < onDisk.size(); i++) {
        assertArrayEquals(contentOf(onDisk.get(i)), join(reads.get(i)));
        assertEquals(2, store.calls(onDisk.get(i)), "reloaded from the store");
      }
      assertFalse(cache.diskActive());
      assertTrue(io.failedReads.get() >= 1);
      String line = onlyError(log).getFormattedMessage();
      assertTrue(line.contains("Input/output error"), line);
      assertTrue(line.contains("memory-only"), line);
      assertEquals(0, cache.metrics().disk().hits());

      for (BlockKey k : keys) {
        assertArrayEquals(contentOf(k), join(cache.get(k, store)));
      }
      assertEquals(1, log.events(Level.ERROR).size());
    }
  }

  @Test
  void memoryHitsNeverTouchAFailedDisk() {
    FaultyDiskIo io = FaultyDiskIo.healthy();
    io.failReads();
    CountingLoader store = new CountingLoader();
    BlockKey k = key("sst", 0, 1000);
    try (HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(1 << 20)
        .withDiskBytes(1 << 20).withDiskDirectory(dir), io)) {
      join(cache.get(k, store));
      for (int i = 0; i < 10; i++) {
        assertArrayEquals(contentOf(k), join(cache.get(k, store)));
      }
      assertEquals(0, io.failedReads.get());
      assertTrue(cache.diskActive());
    }
  }
}
