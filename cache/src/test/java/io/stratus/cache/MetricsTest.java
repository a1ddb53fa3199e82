package io.stratus.cache;

import static io.stratus.cache.TestSupport.await;
import static io.stratus.cache.TestSupport.diskWeight;
import static io.stratus.cache.TestSupport.join;
import static io.stratus.cache.TestSupport.key;
import static io.stratus.cache.TestSupport.memoryWeight;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.cache.TestSupport.CountingLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Per-tier counters in small scenarios whose every lookup is accounted for by hand. */
class MetricsTest {

  private static final int BLOCK = 300 * 1024;

  @TempDir Path dir;

  @Test
  void newCacheReportsZerosAndItsBounds() {
    try (HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(1 << 20)
        .withDiskBytes(8L << 20).withDiskDirectory(dir))) {
      CacheMetrics m = cache.metrics();
      assertEquals(new CacheMetrics.TierMetrics(0, 0, 0, 0, 1 << 20, 0, 0), m.memory());
      assertEquals(new CacheMetrics.TierMetrics(0, 0, 0, 0, 8L << 20, 0, 0), m.disk());
      assertEquals(0, m.misses());
      assertEquals(0.0, m.hitRatio());
      assertEquals(0.0, m.memory().hitRatio());
      assertEquals(0, m.remoteLoad().count());
      assertEquals(0, m.diskLoad().count());
      assertTrue(m.diskActive());
      assertEquals(0, m.diskWritesDropped());
    }
  }

  @Test
  void memoryOnlyCountsHitsMissesAndBytes() {
    CountingLoader store = new CountingLoader();
    BlockKey a = key("a", 0, 1000);
    BlockKey b = key("b", 0, 3000);
    try (HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(1 << 20))) {
      join(cache.get(a, store));
      join(cache.get(a, store));
      join(cache.get(a, store));
      join(cache.get(b, store));
      cache.cleanUp();
      CacheMetrics m = cache.metrics();
      assertEquals(new CacheMetrics.TierMetrics(2, 2, 0, memoryWeight(a) + memoryWeight(b),
          1 << 20, 2, 0), m.memory());
      assertEquals(new CacheMetrics.TierMetrics(0, 0, 0, 0, 0, 0, 0), m.disk());
      assertEquals(0.5, m.memory().hitRatio());
      assertEquals(0.5, m.hitRatio());
      assertEquals(2, m.misses());
      assertEquals(2, m.remoteLoad().count());
      assertEquals(0, m.diskLoad().count());
      assertEquals(false, m.diskActive());
      assertEquals(memoryWeight(a) + memoryWeight(b), cache.memoryBytesUsed());
    }
  }

  @Test
  void twoTierScenario() {
    CountingLoader store = new CountingLoader();
    List<BlockKey> keys = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      keys.add(key("sst-" + i, 0, BLOCK));
    }
    try (HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(1 << 20)
        .withDiskBytes(8L << 20).withDiskDirectory(dir)
        .withDiskWritePolicy(DiskWritePolicy.WRITE_ON_EVICT))) {
      // Three misses, one memory hit, a fourth miss that evicts one block to disk.
      join(cache.get(keys.get(0), store));
      join(cache.get(keys.get(1), store));
      join(cache.get(keys.get(2), store));
      join(cache.get(keys.get(0), store));
      join(cache.get(keys.get(3), store));
      cache.cleanUp();
      BlockKey evicted = keys.stream().filter(k -> cache.getIfPresentInMemory(k) == null)
          .findFirst().orElseThrow();
      await("the evicted block is on disk", () -> cache.diskBytesUsed() == diskWeight(evicted));
      // Room for its promotion without a second eviction.
      BlockKey dropped = keys.stream().filter(k -> !k.equals(evicted)).findFirst().orElseThrow();
      cache.invalidate(dropped.file());
      // A disk hit, then a memory hit on the promoted block.
      join(cache.get(evicted, store));
      join(cache.get(evicted, store));
      cache.cleanUp();

      CacheMetrics m = cache.metrics();
      assertEquals(new CacheMetrics.TierMetrics(2, 5, 1, 3 * memoryWeight(evicted), 1 << 20, 3,
          0), m.memory());
      assertEquals(new CacheMetrics.TierMetrics(1, 4, 0, diskWeight(evicted), 8L << 20, 1, 0),
          m.disk());
      assertEquals(4, m.misses());
      assertEquals(4, store.totalCalls());
      assertEquals(2.0 / 7, m.memory().hitRatio(), 1e-12);
      assertEquals(1.0 / 5, m.disk().hitRatio(), 1e-12);
      assertEquals(3.0 / 7, m.hitRatio(), 1e-12);
      assertEquals(4, m.remoteLoad().count());
      assertEquals(1, m.diskLoad().count());
      assertTrue(m.diskActive());
      assertEquals(0, m.diskWritesDropped());
      assertNotNull(cache.getIfPresentInMemory(evicted));
      assertNull(cache.getIfPresentInMemory(dropped));
    }
  }

  @Test
  void diskEvictionsAreCountedAndTheDiskBoundHolds() {
    // 1 MiB of disk holds three 300 KiB blocks with their headers; five are written through.
    CountingLoader store = new CountingLoader();
    try (HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(4L << 20)
        .withDiskBytes(1 << 20).withDiskDirectory(dir)
        .withDiskWritePolicy(DiskWritePolicy.WRITE_THROUGH))) {
      for (int i = 0; i < 5; i++) {
        join(cache.get(key("sst-" + i, 0, BLOCK), store));
      }
      BlockKey any = key("sst-0", 0, BLOCK);
      await(() -> "two disk evictions, have " + cache.metrics().disk(),
          () -> cache.metrics().disk().evictions() == 2);
      CacheMetrics.TierMetrics disk = cache.metrics().disk();
      assertEquals(3, disk.entries());
      assertEquals(3 * diskWeight(any), disk.bytesUsed());
      assertEquals(0, cache.metrics().memory().evictions());
    }
  }

  @Test
  void writesBeyondThePendingLimitAreDroppedAndCounted() {
    // No room at all for blocks waiting on the disk writer: every eviction is dropped.
    CountingLoader store = new CountingLoader();
    try (HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(1 << 20)
        .withDiskBytes(8L << 20).withDiskDirectory(dir).withMaxPendingWriteBytes(0))) {
      for (int i = 0; i < 5; i++) {
        join(cache.get(key("sst-" + i, 0, BLOCK), store));
      }
      cache.cleanUp();
      CacheMetrics m = cache.metrics();
      assertEquals(2, m.memory().evictions());
      assertEquals(2, m.diskWritesDropped());
      assertEquals(0, m.disk().entries());
    }
  }

  @Test
  void loadLatencyCoversTheWholeAsynchronousLoad() throws Exception {
    // Only a lower bound: the load cannot have taken less than the time the test held it back.
    long heldNanos = TimeUnit.MILLISECONDS.toNanos(20);
    try (HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(1 << 20))) {
      for (int i = 0; i < 3; i++) {
        CompletableFuture<byte[]> s3 = new CompletableFuture<>();
        BlockKey k = key("slow", i, 10);
        CompletableFuture<byte[]> f = cache.get(k, x -> s3);
        Thread.sleep(TimeUnit.NANOSECONDS.toMillis(heldNanos));
        s3.complete(TestSupport.contentOf(k));
        join(f);
      }
      LatencyHistogram.Summary s = cache.metrics().remoteLoad();
      assertEquals(3, s.count());
      assertTrue(s.p50Nanos() >= heldNanos, s.toString());
      assertTrue(s.meanNanos() >= heldNanos, s.toString());
      assertTrue(s.p99Nanos() >= s.p50Nanos(), s.toString());
    }
  }
}
