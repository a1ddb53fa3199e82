package io.stratus.cache;

import static org.junit.jupiter.api.Assertions.fail;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.LoggerFactory;

/** Shared helpers: deterministic block content, a counting loader, deadline-bounded waits. */
final class TestSupport {

  /** Long enough for a loaded CI machine, short enough to fail a hung test in one suite run. */
  static final long DEADLINE_NANOS = TimeUnit.SECONDS.toNanos(20);

  /** Kept in a field: JUL holds loggers weakly and would forget the level. */
  private static final java.util.logging.Logger CAFFEINE_ASYNC_LOG =
      java.util.logging.Logger.getLogger("com.github.benmanes.caffeine.cache.LocalAsyncCache");

  private TestSupport() {}

  /**
   * Caffeine reports every failed asynchronous load with a stack trace through JUL; tests that fail
   * loads on purpose turn that off so real problems stay visible in the build output.
   */
  static void quietCaffeineLoadFailures() {
    CAFFEINE_ASYNC_LOG.setLevel(java.util.logging.Level.OFF);
  }

  /** The "object store" content of a block: a function of the key, so any copy can be checked. */
  static byte[] contentOf(BlockKey key) {
    byte[] bytes = new byte[key.length()];
    SplittableRandom random = new SplittableRandom(
        key.file().hashCode() * 1_000_003L + key.offset() * 31 + key.length());
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) random.nextInt(256);
    }
    return bytes;
  }

  static BlockKey key(String file, long offset, int length) {
    return new BlockKey(file, offset, length);
  }

  /** Polls {@code condition} until it holds; fails (never hangs) after the deadline. */
  static void await(String what, BooleanSupplier condition) {
    await(() -> what, condition);
  }

  /** As {@link #await(String, BooleanSupplier)}, describing the state only on failure. */
  static void await(Supplier<String> what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + DEADLINE_NANOS;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        fail("timed out waiting until " + what.get());
      }
      try {
        Thread.sleep(1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fail("interrupted waiting until " + what.get());
      }
    }
  }

  /** Joins with a deadline so that a future that never completes fails the test, not the build. */
  static <T> T join(CompletableFuture<T> future) {
    try {
      return future.get(DEADLINE_NANOS, TimeUnit.NANOSECONDS);
    } catch (ExecutionException e) {
      throw new CompletionException(e.getCause());
    } catch (TimeoutException e) {
      throw new AssertionError("future did not complete in time", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** Weight of a block in the disk tier. */
  static long diskWeight(BlockKey key) {
    return DiskTier.HEADER_BYTES + key.length();
  }

  /** Weight of a block in the memory tier. */
  static long memoryWeight(BlockKey key) {
    return HybridBlockCache.ENTRY_OVERHEAD_BYTES + key.length();
  }

  static List<Path> blockFiles(Path dir) throws IOException {
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, "*" + DiskTier.SUFFIX)) {
      stream.forEach(files::add);
    }
    return files;
  }

  /** Total size of the block files now in {@code dir}; files deleted while listing count 0. */
  static long blockFileBytes(Path dir) throws IOException {
    long total = 0;
    for (Path file : blockFiles(dir)) {
      try {
        total += Files.size(file);
      } catch (NoSuchFileException e) {
        // evicted between listing and stat
      }
    }
    return total;
  }

  /** The disk-tier file that holds {@code key}, found through the identity in its header. */
  static Path fileOf(Path dir, BlockKey key) throws IOException {
    for (Path file : blockFiles(dir)) {
      byte[] raw = Files.readAllBytes(file);
      ByteBuffer header = ByteBuffer.wrap(raw, 0, DiskTier.HEADER_BYTES);
      header.getInt(); // magic
      int length = header.getInt();
      header.getInt(); // crc
      int fileHash = header.getInt();
      long offset = header.getLong();
      if (length == key.length() && fileHash == key.file().hashCode()
          && offset == key.offset()) {
        return file;
      }
    }
    throw new AssertionError("no disk-tier file holds " + key + " in " + dir);
  }

  /**
   * A loader that completes synchronously with {@link #contentOf} and counts its calls per key, so
   * tests can tell a cache hit from a load.
   */
  static final class CountingLoader implements BlockLoader {
    private final Map<BlockKey, AtomicInteger> calls = new ConcurrentHashMap<>();

    @Override
    public CompletableFuture<byte[]> load(BlockKey key) {
      calls.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
      return CompletableFuture.completedFuture(contentOf(key));
    }

    int calls(BlockKey key) {
      AtomicInteger n = calls.get(key);
      return n == null ? 0 : n.get();
    }

    int totalCalls() {
      return calls.values().stream().mapToInt(AtomicInteger::get).sum();
    }
  }

  /** Captures the events of one logger with a real logback appender. */
  static final class LogCapture implements AutoCloseable {
    private final Logger logger;
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    private final boolean additive;

    /** Captured events stay out of the console: they are expected, and asserted on. */
    LogCapture(Class<?> source) {
      logger = (Logger) LoggerFactory.getLogger(source);
      additive = logger.isAdditive();
      appender.start();
      logger.addAppender(appender);
      logger.setAdditive(false);
    }

    List<ILoggingEvent> events(Level level) {
      synchronized (appender) { // AppenderBase.doAppend locks the appender
        return appender.list.stream().filter(e -> e.getLevel() == level).toList();
      }
    }

    @Override
    public void close() {
      logger.setAdditive(additive);
      logger.detachAppender(appender);
      appender.stop();
    }
  }
}
