package io.stratus.cache;

import static io.stratus.cache.TestSupport.contentOf;
import static io.stratus.cache.TestSupport.key;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.cache.TestSupport.CountingLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Concurrent readers of a block that is in neither tier share one load. */
class SingleFlightTest {

  private static final int THREADS = 16;
  private static final int KEYS = 300;

  enum Setup { MEMORY_ONLY, WRITE_ON_EVICT, WRITE_THROUGH }

  private static BlockCacheConfig config(Setup setup, Path dir) {
    BlockCacheConfig memoryOnly = BlockCacheConfig.memoryOnly(16L << 20);
    return switch (setup) {
      case MEMORY_ONLY -> memoryOnly;
      case WRITE_ON_EVICT -> memoryOnly.withDiskBytes(16L << 20).withDiskDirectory(dir)
          .withDiskWritePolicy(DiskWritePolicy.WRITE_ON_EVICT);
      case WRITE_THROUGH -> memoryOnly.withDiskBytes(16L << 20).withDiskDirectory(dir)
          .withDiskWritePolicy(DiskWritePolicy.WRITE_THROUGH);
    };
  }

  @ParameterizedTest
  @EnumSource(Setup.class)
  void manyReadersOneLoadPerKey(Setup setup, @TempDir Path dir) throws Exception {
    long seed = new Random().nextLong();
    Map<BlockKey, AtomicInteger> calls = new ConcurrentHashMap<>();
    LinkedBlockingQueue<Map.Entry<BlockKey, CompletableFuture<byte[]>>> toComplete =
        new LinkedBlockingQueue<>();
    // Loads complete later on another thread, as an S3 client's would, so that readers pile up
    // on in-flight loads.
    BlockLoader slowStore = k -> {
      calls.computeIfAbsent(k, x -> new AtomicInteger()).incrementAndGet();
      CompletableFuture<byte[]> f = new CompletableFuture<>();
      toComplete.add(Map.entry(k, f));
      return f;
    };
    List<BlockKey> keys = new ArrayList<>();
    Random sizes = new Random(seed);
    for (int i = 0; i < KEYS; i++) {
      keys.add(key("sst-" + (i % 7), i * 65_536L, 1 + sizes.nextInt(8192)));
    }

    try (HybridBlockCache cache = new HybridBlockCache(config(setup, dir))) {
      AtomicReference<Throwable> failure = new AtomicReference<>();
      Thread completer = new Thread(() -> {
        Random jitter = new Random(seed + 1);
        try {
          while (!Thread.currentThread().isInterrupted()) {
            var next = toComplete.poll(10, TimeUnit.MILLISECONDS);
            if (next == null) {
              continue;
            }
            if (jitter.nextInt(8) == 0) {
              Thread.yield();
            }
            next.getValue().complete(contentOf(next.getKey()));
          }
        } catch (InterruptedException e) {
          // done
        }
      }, "fake-s3");
      completer.start();

      CyclicBarrier start = new CyclicBarrier(THREADS);
      List<Thread> readers = new ArrayList<>();
      List<List<CompletableFuture<byte[]>>> results = Collections.synchronizedList(
          new ArrayList<>());
      for (int t = 0; t < THREADS; t++) {
        int id = t;
        Thread reader = new Thread(() -> {
          List<BlockKey> order = new ArrayList<>(keys);
          Collections.shuffle(order, new Random(seed + 100 + id));
          List<CompletableFuture<byte[]>> mine = new ArrayList<>();
          try {
            start.await();
            for (BlockKey k : order) {
              mine.add(cache.get(k, slowStore).thenApply(bytes -> {
                if (!Arrays.equals(contentOf(k), bytes)) {
                  failure.compareAndSet(null, new AssertionError("wrong bytes for " + k));
                }
                return bytes;
              }));
            }
          } catch (Throwable e) {
            failure.compareAndSet(null, e);
          }
          results.add(mine);
        }, "reader-" + t);
        readers.add(reader);
        reader.start();
      }
      for (Thread reader : readers) {
        reader.join();
      }
      for (List<CompletableFuture<byte[]>> mine : results) {
        for (CompletableFuture<byte[]> f : mine) {
          TestSupport.join(f);
        }
      }
      completer.interrupt();
      completer.join();

      if (failure.get() != null) {
        throw new AssertionError("seed " + seed, failure.get());
      }
      assertEquals(THREADS, results.size());
      for (BlockKey k : keys) {
        AtomicInteger n = calls.get(k);
        assertEquals(1, n == null ? 0 : n.get(), "seed " + seed + ": loads of " + k);
        assertArrayEquals(contentOf(k), cache.getIfPresentInMemory(k), "seed " + seed);
      }
      CacheMetrics m = cache.metrics();
      assertEquals(KEYS, m.misses(), "seed " + seed);
      assertEquals((long) THREADS * KEYS, m.memory().hits() + m.memory().misses(),
          "seed " + seed);
      assertTrue(m.memory().misses() >= KEYS, "seed " + seed);
    }
  }

  @ParameterizedTest
  @EnumSource(value = Setup.class, names = {"WRITE_ON_EVICT", "WRITE_THROUGH"})
  void blocksStayReachableWhileMemoryChurns(Setup setup, @TempDir Path dir) throws Exception {
    // Working set 4x memory but within disk: once loaded, every block must be found in memory,
    // in the disk write queue or on disk, so the store is asked once per block even while
    // eviction and promotion run on many threads. (The window this guards, between a block
    // leaving memory and entering the write queue, is short: a regression fails only some runs.)
    long seed = new Random().nextLong();
    BlockCacheConfig config = config(setup, dir).withMemoryBytes(1L << 20)
        .withDiskBytes(32L << 20);
    List<BlockKey> keys = new ArrayList<>();
    for (int i = 0; i < 1024; i++) {
      keys.add(key("sst-" + (i % 5), i * 4096L, 4000));
    }
    CountingLoader store = new CountingLoader();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    try (HybridBlockCache cache = new HybridBlockCache(config)) {
      // All readers scan the same shuffled order in near lockstep, so that a block that one
      // reader's insertion just evicted is the next one the readers behind it ask for.
      List<BlockKey> order = new ArrayList<>(keys);
      Collections.shuffle(order, new Random(seed));
      CyclicBarrier start = new CyclicBarrier(8);
      List<Thread> readers = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        Random random = new Random(seed + t);
        Thread reader = new Thread(() -> {
          try {
            start.await();
            for (int i = 0; i < 6000; i++) {
              BlockKey k = random.nextInt(4) == 0 ? keys.get(random.nextInt(keys.size()))
                  : order.get(i % order.size());
              byte[] bytes = TestSupport.join(cache.get(k, store));
              if (!Arrays.equals(contentOf(k), bytes)) {
                throw new AssertionError("wrong bytes for " + k);
              }
            }
          } catch (Throwable e) {
            failure.compareAndSet(null, e);
          }
        });
        readers.add(reader);
        reader.start();
      }
      for (Thread reader : readers) {
        reader.join();
      }
      if (failure.get() != null) {
        throw new AssertionError("seed " + seed, failure.get());
      }
      CacheMetrics m = cache.metrics();
      assertTrue(m.memory().evictions() > 0, "the test must make memory evict");
      assertEquals(0, m.diskWritesDropped(), "seed " + seed);
      assertEquals(0, m.disk().evictions(), "seed " + seed);
      for (BlockKey k : keys) {
        assertTrue(store.calls(k) <= 1,
            "seed " + seed + ": " + k + " loaded " + store.calls(k) + " times");
      }
    }
  }
}
