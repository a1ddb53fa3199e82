package io.stratus.cache;

import static io.stratus.cache.TestSupport.await;
import static io.stratus.cache.TestSupport.contentOf;
import static io.stratus.cache.TestSupport.diskWeight;
import static io.stratus.cache.TestSupport.join;
import static io.stratus.cache.TestSupport.key;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.cache.TestSupport.CountingLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Demotion (memory eviction to disk) and promotion (disk hit back to memory). */
class TieringTest {

  /** Three of these fit in the 1 MiB memory tier, four do not. */
  static final int BLOCK = 300 * 1024;

  @TempDir Path dir;

  private HybridBlockCache cache(DiskWritePolicy policy) {
    return new HybridBlockCache(BlockCacheConfig.memoryOnly(1 << 20).withDiskBytes(8L << 20)
        .withDiskDirectory(dir).withDiskWritePolicy(policy));
  }

  private static List<BlockKey> blocks(int n) {
    List<BlockKey> keys = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      keys.add(key("sst-" + i, 0, BLOCK));
    }
    return keys;
  }

  private static List<BlockKey> notInMemory(HybridBlockCache cache, List<BlockKey> keys) {
    return keys.stream().filter(k -> cache.getIfPresentInMemory(k) == null).toList();
  }

  @ParameterizedTest
  @EnumSource(DiskWritePolicy.class)
  void evictedBlockStaysReachableOnDiskAndIsPromotedOnHit(DiskWritePolicy policy) {
    CountingLoader store = new CountingLoader();
    List<BlockKey> keys = blocks(4);
    try (HybridBlockCache cache = cache(policy)) {
      for (BlockKey k : keys) {
        assertArrayEquals(contentOf(k), join(cache.get(k, store)));
      }
      cache.cleanUp();
      assertEquals(1, cache.metrics().memory().evictions());
      List<BlockKey> evicted = notInMemory(cache, keys);
      assertEquals(1, evicted.size(), "memory holds three blocks: " + evicted);
      BlockKey demoted = evicted.get(0);

      long onDisk = policy == DiskWritePolicy.WRITE_THROUGH ? 4 * diskWeight(demoted)
          : diskWeight(demoted);
      await("the disk tier holds " + onDisk + " bytes, has " + cache.diskBytesUsed(),
          () -> cache.diskBytesUsed() == onDisk);

      // Make room in memory without another eviction so that the promotion is observable.
      BlockKey resident = keys.stream().filter(k -> !k.equals(demoted)).findFirst().orElseThrow();
      cache.invalidate(resident.file());
      long onDiskAfterInvalidate = policy == DiskWritePolicy.WRITE_THROUGH
          ? 3 * diskWeight(demoted) : diskWeight(demoted);
      await("the invalidated block left the disk tier",
          () -> cache.diskBytesUsed() == onDiskAfterInvalidate);

      assertArrayEquals(contentOf(demoted), join(cache.get(demoted, store)));
      assertEquals(1, store.calls(demoted), "served from disk, not reloaded");
      CacheMetrics m = cache.metrics();
      assertEquals(1, m.disk().hits());
      assertEquals(1, m.diskLoad().count());

      assertArrayEquals(contentOf(demoted), cache.getIfPresentInMemory(demoted), "promoted");
      cache.cleanUp();
      assertEquals(1, cache.metrics().memory().evictions(), "promotion fit without eviction");
      // A promoted block keeps its disk copy, so evicting it again costs no write.
      assertEquals(onDiskAfterInvalidate, cache.diskBytesUsed());
      long memoryHits = cache.metrics().memory().hits();
      join(cache.get(demoted, store));
      assertEquals(memoryHits + 1, cache.metrics().memory().hits());
      assertEquals(1, cache.metrics().disk().hits());
    }
  }

  @Test
  void writeOnEvictWritesOnlyWhatMemoryEvicts() throws Exception {
    CountingLoader store = new CountingLoader();
    List<BlockKey> keys = blocks(3);
    try (HybridBlockCache cache = cache(DiskWritePolicy.WRITE_ON_EVICT)) {
      for (BlockKey k : keys) {
        join(cache.get(k, store));
      }
      BlockKey fourth = key("sst-3", 0, BLOCK);
      join(cache.get(fourth, store));
      cache.cleanUp();
      List<BlockKey> all = new ArrayList<>(keys);
      all.add(fourth);
      BlockKey demoted = notInMemory(cache, all).get(0);
      // The writer is FIFO: once the eviction's write landed, a write of any earlier load would
      // have landed too.
      await("the evicted block is on disk", () -> cache.diskBytesUsed() >= diskWeight(demoted));
      assertEquals(diskWeight(demoted), cache.diskBytesUsed());
      assertEquals(1, TestSupport.blockFiles(dir).size());
      assertEquals(TestSupport.fileOf(dir, demoted),
          TestSupport.blockFiles(dir).get(0));
      assertEquals(diskWeight(demoted), Files.size(TestSupport.blockFiles(dir).get(0)));
    }
  }

  @Test
  void writeThroughWritesEveryLoadEvenWithoutEviction() throws Exception {
    CountingLoader store = new CountingLoader();
    List<BlockKey> keys = blocks(3);
    try (HybridBlockCache cache = cache(DiskWritePolicy.WRITE_THROUGH)) {
      for (BlockKey k : keys) {
        join(cache.get(k, store));
      }
      await("all loads are on disk", () -> cache.diskBytesUsed() == 3L * diskWeight(keys.get(0)));
      for (BlockKey k : keys) {
        assertNotNull(TestSupport.fileOf(dir, k));
        assertNotNull(cache.getIfPresentInMemory(k));
      }
      assertEquals(0, cache.metrics().memory().evictions());
      assertEquals(3, cache.metrics().disk().entries());
    }
  }

  @Test
  void blockLargerThanMemoryIsStillServedAndKeptOnDisk() {
    // Memory cannot hold it at all; the disk tier can, so only the first read goes to the store.
    CountingLoader store = new CountingLoader();
    BlockKey huge = key("sst-huge", 0, (1 << 20) + 1);
    try (HybridBlockCache cache = cache(DiskWritePolicy.WRITE_ON_EVICT)) {
      assertArrayEquals(contentOf(huge), join(cache.get(huge, store)));
      await("the huge block is on disk", () -> cache.diskBytesUsed() == diskWeight(huge));
      for (int i = 0; i < 3; i++) {
        assertArrayEquals(contentOf(huge), join(cache.get(huge, store)));
      }
      assertEquals(1, store.calls(huge));
      assertEquals(3, cache.metrics().disk().hits());
      cache.cleanUp();
      assertTrue(cache.memoryBytesUsed() <= 1 << 20);
    }
  }
}
