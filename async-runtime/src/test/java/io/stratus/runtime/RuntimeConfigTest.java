package io.stratus.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.store.lsm.StoreOptions;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class RuntimeConfigTest {

  @Test
  void everyCopyKeepsTheOtherFields() {
    RuntimeConfig c = RuntimeConfig.defaults().withRocksDbBlockCacheBytes(32L << 20)
        .withParallelism(3).withMaxParallelism(64).withBackend("rocksdb-local")
        .withMaxInFlight(7).withChannelCapacity(9).withSourceBatch(11)
        .withStoreOptions(StoreOptions.defaults().withMaxParallelism(64))
        .withLocalStateDirectory(Path.of("/tmp/x")).withInFlightTargetMillis(50);
    assertEquals(new RuntimeConfig(3, 64, "rocksdb-local", 7, 9, 11,
        StoreOptions.defaults().withMaxParallelism(64), Path.of("/tmp/x"), 32L << 20, 50), c);
    assertEquals(256L << 20, RuntimeConfig.defaults().rocksDbBlockCacheBytes());
  }

  @Test
  void badValuesAreRefusedByName() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> RuntimeConfig.defaults().withRocksDbBlockCacheBytes(0));
    assertTrue(e.getMessage().contains("rocksDbBlockCacheBytes"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> RuntimeConfig.defaults().withMaxInFlight(0));
    assertTrue(e.getMessage().contains("maxInFlight"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> RuntimeConfig.defaults().withInFlightTargetMillis(-1));
    assertTrue(e.getMessage().contains("inFlightTargetMillis"), e.getMessage());
  }

  @Test
  void storeOptionsFollowMaxParallelism() {
    RuntimeConfig c = RuntimeConfig.defaults().withMaxParallelism(256);
    assertEquals(256, c.withStoreOptions(StoreOptions.defaults()).storeOptions()
        .maxParallelism());
  }
}
