package io.stratus.cache;

import static io.stratus.cache.TestSupport.contentOf;
import static io.stratus.cache.TestSupport.join;
import static io.stratus.cache.TestSupport.key;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.cache.TestSupport.CountingLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.io.TempDir;

/**
 * Random workloads with random block sizes: both byte bounds hold throughout, and every read
 * returns the right bytes. Each run draws a new seed; a failure names it so it can be replayed by
 * pinning {@link #seed()}.
 */
class BoundsTest {

  private static final int FILES = 12;

  @TempDir Path dir;

  private static long seed() {
    return new Random().nextLong();
  }

  /** A workload's shape, drawn from the seed. */
  private record Workload(BlockCacheConfig config, List<BlockKey> keys, int maxBlock) {

    static Workload draw(Random random, Path dir) {
      long memory = (1 << 20) + random.nextInt(2 << 20);
      long disk = random.nextInt(4) == 0 ? 0 : (1 << 20) + random.nextInt(4 << 20);
      DiskWritePolicy policy = DiskWritePolicy.values()[random.nextInt(2)];
      long pending = new long[] {0, 256 << 10, 64L << 20}[random.nextInt(3)];
      BlockCacheConfig config = BlockCacheConfig.memoryOnly(memory).withDiskBytes(disk)
          .withDiskDirectory(dir).withDiskWritePolicy(policy).withMaxPendingWriteBytes(pending)
          .withDiskReadThreads(1 + random.nextInt(3));
      List<BlockKey> keys = new ArrayList<>();
      int maxBlock = 0;
      for (int i = 0; i < 300; i++) {
        int roll = random.nextInt(100);
        int length = roll < 70 ? 1 + random.nextInt(16 << 10)
            : roll < 95 ? (16 << 10) + random.nextInt(112 << 10)
            : (128 << 10) + random.nextInt(272 << 10);
        maxBlock = Math.max(maxBlock, length);
        keys.add(key("sst-" + random.nextInt(FILES), (long) i << 20, length));
      }
      return new Workload(config, keys, maxBlock);
    }

    /** Skewed towards low indexes, as real block accesses are. */
    BlockKey pick(Random random) {
      double u = random.nextDouble();
      return keys.get((int) (keys.size() * u * u));
    }
  }

  private static void checkBounds(HybridBlockCache cache, Workload w, String context) {
    cache.cleanUp();
    long memory = cache.memoryBytesUsed();
    long memoryBound = w.config.memoryBytes() + HybridBlockCache.ENTRY_OVERHEAD_BYTES + w.maxBlock;
    assertTrue(memory <= memoryBound, context + ": memory " + memory + " > " + memoryBound);
    long disk = cache.diskBytesUsed();
    long diskBound = w.config.diskBytes() + DiskTier.HEADER_BYTES + w.maxBlock;
    assertTrue(disk <= diskBound, context + ": disk " + disk + " > " + diskBound);
  }

  @RepeatedTest(6)
  void singleThreadedBoundsHoldAfterEveryOperation() throws Exception {
    long seed = seed();
    Random random = new Random(seed);
    Workload w = Workload.draw(random, dir);
    String context = "seed " + seed + " " + w.config;
    CountingLoader store = new CountingLoader();
    long lookups = 0;
    long peakMemory = 0;
    long peakDisk = 0;
    try (HybridBlockCache cache = new HybridBlockCache(w.config)) {
      for (int op = 0; op < 4000; op++) {
        String at = context + " op " + op;
        int roll = random.nextInt(100);
        if (roll < 88) {
          BlockKey k = w.pick(random);
          assertArrayEquals(contentOf(k), join(cache.get(k, store)), at + " " + k);
          lookups++;
        } else if (roll < 92) {
          cache.invalidate("sst-" + random.nextInt(FILES));
        } else if (roll < 96) {
          List<BlockKey> batch = new ArrayList<>();
          for (int i = 1 + random.nextInt(8); i > 0; i--) {
            batch.add(w.pick(random));
          }
          assertEquals(batch.size(), join(cache.prefetch(batch, store)), at);
          lookups += batch.size();
        } else {
          BlockKey k = w.pick(random);
          byte[] resident = cache.getIfPresentInMemory(k);
          if (resident != null) {
            assertArrayEquals(contentOf(k), resident, at + " " + k);
          }
          for (BlockKey hot : cache.hottestBlocks(5)) {
            assertTrue(w.keys.contains(hot), at);
          }
        }
        checkBounds(cache, w, at);
        peakMemory = Math.max(peakMemory, cache.memoryBytesUsed());
        peakDisk = Math.max(peakDisk, cache.diskBytesUsed());
      }
      CacheMetrics m = cache.metrics();
      assertEquals(lookups, m.memory().hits() + m.memory().misses(), context);
      assertEquals(store.totalCalls(), m.misses(), context);
      // The workload must have pushed both tiers against their bounds, or it proved nothing.
      assertTrue(m.memory().evictions() > 0, context);
      assertTrue(peakMemory > w.config.memoryBytes() / 2, context);
      if (w.config.diskBytes() > 0 && w.config.maxPendingWriteBytes() > 0) {
        assertTrue(peakDisk > 0, context);
      }
      assertTrue(cache.diskActive() == (w.config.diskBytes() > 0), context);
    }
    assertEquals(List.of(), TestSupport.blockFiles(dir), context);
  }

  @RepeatedTest(3)
  void concurrentBoundsHoldAndTheDirectoryMatchesTheIndex() throws Exception {
    long seed = seed();
    Random random = new Random(seed);
    Workload w = Workload.draw(random, dir);
    BlockCacheConfig config = w.config.withDiskBytes((1 << 20) + random.nextInt(4 << 20))
        .withMaxPendingWriteBytes(64L << 20);
    Workload wd = new Workload(config, w.keys, w.maxBlock);
    String context = "seed " + seed + " " + config;
    CountingLoader store = new CountingLoader();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    try (HybridBlockCache cache = new HybridBlockCache(config)) {
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        Random mine = new Random(seed + 1 + t);
        Thread thread = new Thread(() -> {
          try {
            for (int op = 0; op < 1500; op++) {
              BlockKey k = wd.pick(mine);
              byte[] bytes = join(cache.get(k, store));
              if (!Arrays.equals(contentOf(k), bytes)) {
                throw new AssertionError("wrong bytes for " + k);
              }
              if (mine.nextInt(200) == 0) {
                cache.invalidate(k.file());
              }
            }
          } catch (Throwable e) {
            failure.compareAndSet(null, e);
          }
        });
        threads.add(thread);
        thread.start();
      }
      long diskBound = config.diskBytes() + DiskTier.HEADER_BYTES + w.maxBlock;
      // The disk bound holds at any moment, not only once the writer is idle; the directory
      // itself may in addition hold the one file being written.
      while (threads.stream().anyMatch(Thread::isAlive)) {
        long disk = cache.diskBytesUsed();
        assertTrue(disk <= diskBound, context + ": disk " + disk + " > " + diskBound);
        long files = TestSupport.blockFileBytes(dir);
        assertTrue(files <= diskBound + DiskTier.HEADER_BYTES + w.maxBlock,
            context + ": directory " + files + " > " + diskBound);
        Thread.sleep(1);
      }
      for (Thread thread : threads) {
        thread.join();
      }
      if (failure.get() != null) {
        throw new AssertionError(context, failure.get());
      }
      checkBounds(cache, wd, context);
      assertTrue(cache.metrics().memory().evictions() > 0, context);
    }
  }
}
