package io.stratus.cache;

import static io.stratus.cache.TestSupport.await;
import static io.stratus.cache.TestSupport.contentOf;
import static io.stratus.cache.TestSupport.diskWeight;
import static io.stratus.cache.TestSupport.join;
import static io.stratus.cache.TestSupport.key;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.cache.TestSupport.CountingLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** invalidate(file): the file's blocks leave both tiers and the next get goes to the store. */
class InvalidateTest {

  private static final int BLOCK = 100 * 1024;

  @TempDir Path dir;

  private HybridBlockCache cache(DiskWritePolicy policy, DiskIo io) {
    return new HybridBlockCache(BlockCacheConfig.memoryOnly(1 << 20).withDiskBytes(32L << 20)
        .withDiskDirectory(dir).withDiskWritePolicy(policy), io);
  }

  @Test
  void memoryOnlyInvalidateDropsOnlyThatFile() {
    CountingLoader store = new CountingLoader();
    try (HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(1 << 20))) {
      BlockKey a0 = key("a", 0, 100);
      BlockKey a1 = key("a", 100, 100);
      BlockKey ab = key("ab", 0, 100); // a prefix of another name is another file
      for (BlockKey k : List.of(a0, a1, ab)) {
        join(cache.get(k, store));
      }
      cache.invalidate("a");
      assertNull(cache.getIfPresentInMemory(a0));
      assertNull(cache.getIfPresentInMemory(a1));
      assertArrayEquals(contentOf(ab), cache.getIfPresentInMemory(ab));
      join(cache.get(a0, store));
      join(cache.get(ab, store));
      assertEquals(2, store.calls(a0));
      assertEquals(1, store.calls(ab));
      cache.invalidate("never-cached");
    }
  }

  @ParameterizedTest
  @EnumSource(DiskWritePolicy.class)
  void nextGetReloadsEvenWhileTheDiskWriterIsBusy(DiskWritePolicy policy) throws Exception {
    FaultyDiskIo io = FaultyDiskIo.healthy();
    CountingLoader store = new CountingLoader();
    List<BlockKey> doomed = new ArrayList<>();
    List<BlockKey> kept = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      doomed.add(key("doomed", (long) i * BLOCK, BLOCK));
      kept.add(key("kept", (long) i * BLOCK, BLOCK));
    }
    try (HybridBlockCache cache = cache(policy, io)) {
      // Doomed blocks first: the oldest entries are the first that memory evicts to disk.
      for (BlockKey k : doomed) {
        join(cache.get(k, store));
      }
      for (BlockKey k : kept) {
        join(cache.get(k, store));
      }
      cache.cleanUp();
      long evictions = cache.metrics().memory().evictions();
      long onDisk = policy == DiskWritePolicy.WRITE_THROUGH ? 12 : evictions;
      long settled = onDisk * diskWeight(doomed.get(0));
      await("disk writes settled", () -> cache.diskBytesUsed() == settled);
      assertTrue(doomed.stream().anyMatch(k -> cache.getIfPresentInMemory(k) == null),
          "precondition: some doomed block lives on disk only");

      // A write stuck in the disk writer delays anything queued behind it.
      io.stallNextWrite();
      BlockKey filler = key("filler", 0, BLOCK);
      join(cache.get(filler, store));
      io.awaitStalledWrite();
      try {
        cache.invalidate("doomed");
        for (BlockKey k : doomed) {
          assertNull(cache.getIfPresentInMemory(k), k.toString());
        }
        for (BlockKey k : doomed) {
          assertArrayEquals(contentOf(k), join(cache.get(k, store)));
          assertEquals(2, store.calls(k), k + " must be loaded again after invalidate");
        }
        for (BlockKey k : kept) {
          assertArrayEquals(contentOf(k), join(cache.get(k, store)));
          assertEquals(1, store.calls(k), k + " was not invalidated");
        }
      } finally {
        io.resumeWrites();
      }
    }
  }

  @Test
  void blockWhoseDiskWriteIsInFlightIsNotKept() throws Exception {
    FaultyDiskIo io = FaultyDiskIo.healthy();
    CountingLoader store = new CountingLoader();
    BlockKey doomed = key("doomed", 0, BLOCK);
    BlockKey other = key("other", 0, BLOCK);
    try (HybridBlockCache cache = cache(DiskWritePolicy.WRITE_THROUGH, io)) {
      io.stallNextWrite();
      join(cache.get(doomed, store));
      io.awaitStalledWrite();
      cache.invalidate("doomed");
      io.resumeWrites();
      // A later write orders after everything the invalidation queued.
      join(cache.get(other, store));
      await(() -> "only the other block is on disk, disk has " + cache.diskBytesUsed(),
          () -> cache.diskBytesUsed() == diskWeight(other));
      assertArrayEquals(contentOf(doomed), join(cache.get(doomed, store)));
      assertEquals(2, store.calls(doomed));
    }
  }

  @ParameterizedTest
  @EnumSource(DiskWritePolicy.class)
  void loadInFlightDuringInvalidateCompletesForItsCallerButIsNotKept(DiskWritePolicy policy) {
    CountingLoader store = new CountingLoader();
    BlockKey doomed = key("doomed", 0, BLOCK);
    BlockKey other = key("other", 0, BLOCK);
    CompletableFuture<byte[]> s3 = new CompletableFuture<>();
    try (HybridBlockCache cache = cache(policy, DiskIo.LOCAL)) {
      CompletableFuture<byte[]> reader = cache.get(doomed, k -> s3);
      cache.invalidate("doomed");
      s3.complete(contentOf(doomed));
      assertArrayEquals(contentOf(doomed), join(reader));
      assertNull(cache.getIfPresentInMemory(doomed));
      assertArrayEquals(contentOf(doomed), join(cache.get(doomed, store)));
      assertEquals(1, store.calls(doomed), "the invalidated load must not be served again");

      if (policy == DiskWritePolicy.WRITE_THROUGH) {
        // Only the reload, never the invalidated load, may reach the disk.
        join(cache.get(other, store));
        await(() -> "the reload and the other block are on disk, disk has "
                + cache.diskBytesUsed(),
            () -> cache.diskBytesUsed() == diskWeight(doomed) + diskWeight(other));
        assertEquals(2, cache.metrics().disk().entries());
      }
      assertTrue(cache.diskActive());
    }
  }
}
