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

import io.stratus.cache.TestSupport.CountingLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Start and close: the directory's block files, and reads that straddle close(). */
class LifecycleTest {

  @TempDir Path dir;

  @Test
  void startAndCloseDeleteBlockFilesOnly() throws Exception {
    Path stale = Files.write(dir.resolve("zz.blk"), new byte[] {1, 2, 3});
    Path foreign = Files.writeString(dir.resolve("README.txt"), "not the cache's");
    CountingLoader store = new CountingLoader();
    HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(1 << 20)
        .withDiskBytes(8L << 20).withDiskDirectory(dir)
        .withDiskWritePolicy(DiskWritePolicy.WRITE_THROUGH));
    assertFalse(Files.exists(stale), "a previous run's files are not trusted");
    BlockKey k = key("sst", 0, 10_000);
    join(cache.get(k, store));
    await("the block is on disk", () -> cache.diskBytesUsed() == diskWeight(k));
    assertEquals(1, TestSupport.blockFiles(dir).size());
    cache.close();
    assertEquals(List.of(), TestSupport.blockFiles(dir));
    assertTrue(Files.exists(foreign));
    assertTrue(Files.isDirectory(dir), "a configured directory is not the cache's to delete");
    assertFalse(cache.diskActive());
  }

  @Test
  void getAfterCloseStillServesFromTheStore() {
    CountingLoader store = new CountingLoader();
    BlockKey k = key("sst", 0, 10_000);
    HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(1 << 20)
        .withDiskBytes(8L << 20).withDiskDirectory(dir));
    join(cache.get(k, store));
    cache.close();
    assertArrayEquals(contentOf(k), join(cache.get(k, store)));
    assertEquals(2, store.calls(k));
    cache.invalidate("sst");
    assertEquals(1, join(cache.prefetch(List.of(k), store)));
  }

  @Test
  void readsQueuedForTheDiskWhenCloseIsCalledStillComplete() throws Exception {
    // One disk reader and many disk hits: most reads wait in the reader's queue when close()
    // runs; each must still complete, from disk or from the store.
    CountingLoader store = new CountingLoader();
    List<BlockKey> keys = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      keys.add(key("sst-" + i, 0, 300 * 1024));
    }
    HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(1 << 20)
        .withDiskBytes(32L << 20).withDiskDirectory(dir).withDiskReadThreads(1)
        .withDiskWritePolicy(DiskWritePolicy.WRITE_THROUGH));
    List<CompletableFuture<byte[]>> reads = new ArrayList<>();
    List<BlockKey> onDisk;
    try {
      for (BlockKey k : keys) {
        join(cache.get(k, store));
      }
      await("all blocks on disk", () -> cache.diskBytesUsed() == 30 * diskWeight(keys.get(0)));
      cache.cleanUp();
      onDisk = keys.stream().filter(k -> cache.getIfPresentInMemory(k) == null).toList();
      assertTrue(onDisk.size() >= 20, "most blocks are on disk only");
      for (BlockKey k : onDisk) {
        reads.add(cache.get(k, store));
      }
    } finally {
      cache.close();
    }
    for (int i = 0; i < reads.size(); i++) {
      assertArrayEquals(contentOf(onDisk.get(i)), join(reads.get(i)), onDisk.get(i).toString());
    }
  }
}
