package io.stratus.cache;

import static io.stratus.cache.TestSupport.await;
import static io.stratus.cache.TestSupport.contentOf;
import static io.stratus.cache.TestSupport.diskWeight;
import static io.stratus.cache.TestSupport.join;
import static io.stratus.cache.TestSupport.key;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.cache.TestSupport.CountingLoader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Warm-up of a worker taking over a key-group range: hottestBlocks, then prefetch. */
class PrefetchAndHottestTest {

  @BeforeAll
  static void quiet() {
    TestSupport.quietCaffeineLoadFailures();
  }

  private static List<BlockKey> keys(String file, int n, int length) {
    List<BlockKey> keys = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      keys.add(key(file, (long) i * length, length));
    }
    return keys;
  }

  @Test
  void prefetchedBlocksAreMemoryHits() {
    CountingLoader store = new CountingLoader();
    List<BlockKey> keys = keys("sst-1", 100, 4096);
    try (HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(8L << 20))) {
      assertEquals(100, join(cache.prefetch(keys, store)));
      assertEquals(100, store.totalCalls());
      long hits = cache.metrics().memory().hits();
      for (BlockKey k : keys) {
        assertArrayEquals(contentOf(k), join(cache.get(k, store)));
      }
      assertEquals(100, store.totalCalls(), "no get after prefetch reaches the store");
      assertEquals(hits + 100, cache.metrics().memory().hits());
      // Prefetching what is already there is free and still counted.
      assertEquals(100, join(cache.prefetch(keys, store)));
      assertEquals(100, store.totalCalls());
      assertEquals(0, join(cache.prefetch(List.of(), store)));
    }
  }

  @Test
  void prefetchSkipsBlocksThatFailAndDoesNotFail() {
    List<BlockKey> keys = keys("sst-2", 10, 512);
    Set<BlockKey> broken = Set.of(keys.get(0), keys.get(4), keys.get(9));
    BlockLoader store = k -> broken.contains(k)
        ? CompletableFuture.failedFuture(new IOException("404 " + k))
        : CompletableFuture.completedFuture(contentOf(k));
    try (HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(8L << 20))) {
      assertEquals(7, join(cache.prefetch(keys, store)));
      for (BlockKey k : keys) {
        if (broken.contains(k)) {
          assertNull(cache.getIfPresentInMemory(k));
        } else {
          assertArrayEquals(contentOf(k), cache.getIfPresentInMemory(k));
        }
      }
    }
  }

  @Test
  void prefetchRunsAtMostSixteenLoadsAtATime() {
    ConcurrentLinkedQueue<Map.Entry<BlockKey, CompletableFuture<byte[]>>> inFlight =
        new ConcurrentLinkedQueue<>();
    AtomicInteger started = new AtomicInteger();
    BlockLoader store = k -> {
      started.incrementAndGet();
      CompletableFuture<byte[]> f = new CompletableFuture<>();
      inFlight.add(Map.entry(k, f));
      return f;
    };
    List<BlockKey> keys = keys("sst-3", 40, 256);
    try (HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(8L << 20))) {
      CompletableFuture<Integer> done = cache.prefetch(keys, store);
      assertEquals(16, started.get());
      for (int completed = 0; completed < 40; completed++) {
        var next = inFlight.poll();
        assertNotNull(next, "prefetch stalled after " + completed + " loads");
        assertFalse(done.isDone());
        next.getValue().complete(contentOf(next.getKey()));
        // Each completion starts the next load on its lane, never more than 16 at once.
        assertEquals(Math.min(40, completed + 1 + 16), started.get());
      }
      assertEquals(40, join(done));
    }
  }

  @Test
  void prefetchOfManyAsynchronousLoadsCompletes() throws Exception {
    // The asynchronous path chains a continuation per load; it must not overflow either.
    LinkedBlockingQueue<Map.Entry<BlockKey, CompletableFuture<byte[]>>> inFlight =
        new LinkedBlockingQueue<>();
    BlockLoader store = k -> {
      CompletableFuture<byte[]> f = new CompletableFuture<>();
      inFlight.add(Map.entry(k, f));
      return f;
    };
    List<BlockKey> keys = keys("sst-8", 20_000, 1);
    Thread s3 = new Thread(() -> {
      try {
        for (int i = 0; i < keys.size(); i++) {
          var next = inFlight.take();
          next.getValue().complete(contentOf(next.getKey()));
        }
      } catch (InterruptedException e) {
        // test over
      }
    }, "fake-s3");
    try (HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(16L << 20))) {
      s3.start();
      assertEquals(20_000, join(cache.prefetch(keys, store)));
    } finally {
      s3.interrupt();
      s3.join();
    }
  }

  @Test
  void prefetchOfManyResidentBlocksDoesNotRecurseOnTheStack() {
    // Blocks that are already in memory complete synchronously; a prefetch of a large hand-over
    // list of them must not turn into one nested call per block.
    List<BlockKey> keys = keys("sst-4", 20_000, 1);
    CountingLoader store = new CountingLoader();
    try (HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(64L << 20))) {
      for (BlockKey k : keys) {
        join(cache.get(k, store));
      }
      assertEquals(20_000, join(cache.prefetch(keys, store)));
      assertEquals(20_000, store.totalCalls());
    }
  }

  @Test
  void prefetchPromotesFromDiskWithoutCallingTheStore(@TempDir Path dir) {
    CountingLoader store = new CountingLoader();
    List<BlockKey> keys = keys("sst-5", 4, 300 * 1024);
    try (HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(1 << 20)
        .withDiskBytes(8L << 20).withDiskDirectory(dir)
        .withDiskWritePolicy(DiskWritePolicy.WRITE_THROUGH))) {
      join(cache.prefetch(keys, store));
      await("all four on disk", () -> cache.diskBytesUsed() == 4 * diskWeight(keys.get(0)));
      cache.cleanUp();
      BlockKey evicted = keys.stream().filter(k -> cache.getIfPresentInMemory(k) == null)
          .findFirst().orElseThrow();
      assertEquals(1, join(cache.prefetch(List.of(evicted), store)));
      assertEquals(1, store.calls(evicted), "came from disk");
      assertEquals(1, cache.metrics().disk().hits());
    }
  }

  @Test
  void hottestBlocksAreTheRepeatedlyReadOnesAndFeedAnotherCachesPrefetch() {
    CountingLoader store = new CountingLoader();
    List<BlockKey> keys = keys("sst-6", 24, 64 * 1024);
    try (HybridBlockCache previousOwner =
            new HybridBlockCache(BlockCacheConfig.memoryOnly(2L << 20));
        HybridBlockCache nextOwner = new HybridBlockCache(BlockCacheConfig.memoryOnly(2L << 20))) {
      for (BlockKey k : keys) {
        join(previousOwner.get(k, store));
      }
      Set<BlockKey> hot = Set.of(keys.get(3), keys.get(11), keys.get(17));
      for (int round = 0; round < 10; round++) {
        for (BlockKey k : hot) {
          join(previousOwner.get(k, store));
        }
      }
      previousOwner.cleanUp();
      assertEquals(hot, Set.copyOf(previousOwner.hottestBlocks(3)));
      assertEquals(0, previousOwner.hottestBlocks(0).size());
      List<BlockKey> all = previousOwner.hottestBlocks(1000);
      assertEquals(previousOwner.metrics().memory().entries(), all.size());
      assertEquals(all.size(), new HashSet<>(all).size());
      assertTrue(all.containsAll(hot));

      int loadsBefore = store.totalCalls();
      assertEquals(3, join(nextOwner.prefetch(previousOwner.hottestBlocks(3), store)));
      assertEquals(loadsBefore + 3, store.totalCalls());
      for (BlockKey k : hot) {
        assertArrayEquals(contentOf(k), nextOwner.getIfPresentInMemory(k));
      }
      assertFalse(nextOwner.diskActive());
    }
  }

  @Test
  void duplicateKeysInAPrefetchAreLoadedOnce() {
    AtomicInteger calls = new AtomicInteger();
    BlockLoader store = k -> {
      calls.incrementAndGet();
      return CompletableFuture.completedFuture(contentOf(k));
    };
    BlockKey k = key("sst-7", 0, 100);
    try (HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(8L << 20))) {
      // Duplicates are counted per entry but loaded once.
      assertEquals(3, join(cache.prefetch(List.of(k, k, k), store)));
      assertEquals(1, calls.get());
    }
  }

  @Test
  void putIfAbsentNeitherWaitsForNorReplacesALoadInFlight() {
    BlockKey loading = key("sst-8", 0, 100);
    BlockKey cached = key("sst-8", 100, 100);
    BlockKey absent = key("sst-8", 200, 100);
    CompletableFuture<byte[]> slowRead = new CompletableFuture<>();
    try (HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(8L << 20))) {
      CompletableFuture<byte[]> miss = cache.get(loading, k -> slowRead);
      join(cache.get(cached, k -> CompletableFuture.completedFuture(contentOf(k))));
      // Returns at once although one key's load is in flight.
      assertEquals(1, cache.putIfAbsent(List.of(loading, cached, absent),
          k -> new byte[] {42}));
      assertArrayEquals(new byte[] {42}, cache.getIfPresentInMemory(absent));
      assertArrayEquals(contentOf(cached), cache.getIfPresentInMemory(cached));
      assertFalse(miss.isDone());
      slowRead.complete(contentOf(loading));
      assertArrayEquals(contentOf(loading), join(miss));
      assertArrayEquals(contentOf(loading), cache.getIfPresentInMemory(loading));
    }
  }
}
