package io.stratus.cache;

import static io.stratus.cache.TestSupport.contentOf;
import static io.stratus.cache.TestSupport.join;
import static io.stratus.cache.TestSupport.key;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.cache.TestSupport.CountingLoader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What the cache promises about the loader: used on a miss only, failures reach the caller. */
class LoaderContractTest {

  @BeforeAll
  static void quiet() {
    TestSupport.quietCaffeineLoadFailures();
  }

  @TempDir Path dir;
  private HybridBlockCache cache;

  private HybridBlockCache newCache(boolean withDisk) {
    BlockCacheConfig config = BlockCacheConfig.memoryOnly(4L << 20);
    if (withDisk) {
      config = config.withDiskBytes(4L << 20).withDiskDirectory(dir)
          .withDiskWritePolicy(DiskWritePolicy.WRITE_THROUGH);
    }
    cache = new HybridBlockCache(config);
    return cache;
  }

  @AfterEach
  void close() {
    if (cache != null) {
      cache.close();
    }
  }

  @Test
  void missLoadsOnceThenServesFromMemory() {
    newCache(false);
    CountingLoader loader = new CountingLoader();
    BlockKey k = key("sst-1", 4096, 1000);
    assertNull(cache.getIfPresentInMemory(k));
    assertArrayEquals(contentOf(k), join(cache.get(k, loader)));
    assertArrayEquals(contentOf(k), join(cache.get(k, loader)));
    assertArrayEquals(contentOf(k), cache.getIfPresentInMemory(k));
    assertEquals(1, loader.calls(k));
    // Same file, other offset or length: other blocks.
    join(cache.get(key("sst-1", 0, 1000), loader));
    join(cache.get(key("sst-1", 4096, 999), loader));
    assertEquals(3, loader.totalCalls());
  }

  @ParameterizedTest(name = "disk tier {0}")
  @ValueSource(booleans = {false, true})
  void failedLoadReachesTheCallerAndIsNotCached(boolean withDisk) {
    newCache(withDisk);
    BlockKey k = key("sst-2", 0, 64);
    IOException failure = new IOException("S3 503 Slow Down");
    AtomicInteger calls = new AtomicInteger();
    BlockLoader failing = key -> {
      calls.incrementAndGet();
      return CompletableFuture.failedFuture(failure);
    };
    CompletionException e = assertThrows(CompletionException.class,
        () -> join(cache.get(k, failing)));
    assertSame(failure, e.getCause());
    assertNull(cache.getIfPresentInMemory(k));

    assertThrows(CompletionException.class, () -> join(cache.get(k, failing)));
    assertEquals(2, calls.get(), "a failure must not be served from the cache");

    CountingLoader healthy = new CountingLoader();
    assertArrayEquals(contentOf(k), join(cache.get(k, healthy)));
    assertEquals(1, healthy.calls(k));
  }

  @Test
  void loaderThatThrowsInsteadOfReturningAFutureFailsTheFutureNotTheCall() {
    newCache(false);
    BlockKey k = key("sst-3", 0, 64);
    IllegalStateException boom = new IllegalStateException("no credentials");
    CompletableFuture<byte[]> f = cache.get(k, key -> {
      throw boom;
    });
    CompletionException e = assertThrows(CompletionException.class, () -> join(f));
    assertSame(boom, e.getCause());
    assertArrayEquals(contentOf(k), join(cache.get(k, new CountingLoader())));
  }

  @Test
  void asyncFailureCompletedOnAnotherThreadIsNotCachedForAnImmediateRetry() throws Exception {
    newCache(false);
    // A caller that sees the failure before the completing thread has run the cache's clean-up
    // of the failed entry retries at once. Spinning instead of parking, the caller sees it that
    // early in most rounds.
    for (int round = 0; round < 300; round++) {
      BlockKey k = key("sst-4", round, 32);
      CompletableFuture<byte[]> pending = new CompletableFuture<>();
      AtomicInteger calls = new AtomicInteger();
      CompletableFuture<byte[]> f = cache.get(k, key -> {
        calls.incrementAndGet();
        return pending;
      });
      Thread completer = new Thread(() -> pending.completeExceptionally(new IOException("reset")));
      completer.start();
      while (!f.isDone()) {
        Thread.onSpinWait();
      }
      assertTrue(f.isCompletedExceptionally());
      CountingLoader retry = new CountingLoader();
      assertArrayEquals(contentOf(k), join(cache.get(k, retry)), "round " + round);
      assertEquals(1, retry.calls(k), "round " + round + ": retry must call the loader");
      completer.join();
    }
  }

  @ParameterizedTest(name = "returned length {0}")
  @ValueSource(ints = {0, 99, 101, -1})
  void wrongLengthFailsWithAClearMessageAndIsNotCached(int returned) {
    newCache(false);
    BlockKey k = key("sst-5", 8192, 100);
    CompletableFuture<byte[]> f = cache.get(k,
        key -> CompletableFuture.completedFuture(returned < 0 ? null : new byte[returned]));
    CompletionException e = assertThrows(CompletionException.class, () -> join(f));
    IllegalStateException cause = assertInstanceOf(IllegalStateException.class, e.getCause());
    String got = returned < 0 ? "null" : returned + " bytes";
    assertEquals("loader returned " + got + " for block sst-5@8192+100, expected 100 bytes",
        cause.getMessage());
    assertNull(cache.getIfPresentInMemory(k));
    CountingLoader healthy = new CountingLoader();
    assertArrayEquals(contentOf(k), join(cache.get(k, healthy)));
    assertEquals(1, healthy.calls(k));
  }

  @Test
  void wrongLengthIsNeverWrittenToDisk() {
    newCache(true);
    BlockKey k = key("sst-6", 0, 100);
    assertThrows(CompletionException.class, () -> join(cache.get(k,
        key -> CompletableFuture.completedFuture(new byte[50]))));
    // A good block written after it is the only thing the disk holds once the writer is idle.
    BlockKey good = key("sst-6", 100, 100);
    join(cache.get(good, new CountingLoader()));
    TestSupport.await("the good block is on disk",
        () -> cache.diskBytesUsed() == TestSupport.diskWeight(good));
    assertEquals(1, cache.metrics().disk().entries());
    assertFalse(cache.metrics().disk().bytesUsed() > TestSupport.diskWeight(good));
    assertTrue(cache.diskActive(), "a loader bug is not a disk failure");
  }
}
