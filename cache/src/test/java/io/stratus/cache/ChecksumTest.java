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
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** A damaged disk-tier file is dropped and the block reloaded; its bytes are never returned. */
class ChecksumTest {

  private static final int BLOCK = 300 * 1024;

  enum Damage {
    FLIP_DATA_BYTE,
    FLIP_LAST_DATA_BYTE,
    TRUNCATE_DATA,
    TRUNCATE_TO_NOTHING,
    APPEND_GARBAGE,
    CORRUPT_STORED_CRC,
    OTHER_BLOCKS_FILE,
  }

  @ParameterizedTest
  @EnumSource(Damage.class)
  void damagedFileIsDroppedAndTheBlockReloaded(Damage damage, @TempDir Path dir)
      throws Exception {
    long seed = new Random().nextLong();
    Random random = new Random(seed);
    CountingLoader store = new CountingLoader();
    List<BlockKey> keys = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      keys.add(key("sst-" + i, 0, BLOCK));
    }
    try (LogCapture log = new LogCapture(DiskTier.class);
        HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(1 << 20)
            .withDiskBytes(8L << 20).withDiskDirectory(dir)
            .withDiskWritePolicy(DiskWritePolicy.WRITE_THROUGH))) {
      for (BlockKey k : keys) {
        join(cache.get(k, store));
      }
      await("all blocks on disk", () -> cache.diskBytesUsed() == 4 * diskWeight(keys.get(0)));
      cache.cleanUp();
      BlockKey victim = keys.stream().filter(k -> cache.getIfPresentInMemory(k) == null)
          .findFirst().orElseThrow();
      BlockKey other = keys.stream().filter(k -> !k.equals(victim)).findFirst().orElseThrow();
      Path file = TestSupport.fileOf(dir, victim);

      byte[] raw = Files.readAllBytes(file);
      String what = damage + " of " + file.getFileName() + ", seed " + seed;
      switch (damage) {
        case FLIP_DATA_BYTE -> {
          int at = DiskTier.HEADER_BYTES + random.nextInt(BLOCK);
          raw[at] ^= (byte) (1 + random.nextInt(255));
          what += " at " + at;
        }
        case FLIP_LAST_DATA_BYTE -> raw[raw.length - 1] ^= 1;
        case TRUNCATE_DATA -> raw = Arrays.copyOf(raw,
            DiskTier.HEADER_BYTES + random.nextInt(BLOCK));
        case TRUNCATE_TO_NOTHING -> raw = new byte[0];
        case APPEND_GARBAGE -> raw = Arrays.copyOf(raw, raw.length + 1 + random.nextInt(100));
        case CORRUPT_STORED_CRC -> {
          ByteBuffer header = ByteBuffer.wrap(raw);
          header.putInt(8, header.getInt(8) + 1);
        }
        case OTHER_BLOCKS_FILE -> raw = Files.readAllBytes(TestSupport.fileOf(dir, other));
      }
      Files.write(file, raw);

      assertArrayEquals(contentOf(victim), join(cache.get(victim, store)), what);
      assertEquals(2, store.calls(victim), what + ": the block must be reloaded");
      CacheMetrics m = cache.metrics();
      assertEquals(1, m.disk().checksumFailures(), what);
      assertEquals(0, m.disk().hits(), what);
      assertTrue(cache.diskActive(), "a damaged file is not a disk failure");
      assertFalse(Files.exists(file), "the damaged file is deleted: " + what);
      List<ILoggingEvent> warnings = log.events(Level.WARN);
      assertEquals(1, warnings.size(), what);
      assertTrue(warnings.get(0).getFormattedMessage().contains(victim.toString()),
          warnings.get(0).getFormattedMessage());

      // The reloaded copy is written through again and then serves disk hits normally.
      assertArrayEquals(contentOf(victim), join(cache.get(victim, store)));
      assertEquals(2, store.calls(victim));
      assertArrayEquals(contentOf(other), join(cache.get(other, store)));
      assertEquals(1, store.calls(other), "the block whose file was copied is intact");
    }
  }
}
