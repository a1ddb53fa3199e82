package io.stratus.store.lsm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.cache.BlockKey;
import io.stratus.cache.HybridBlockCache;
import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.NetworkModel;
import io.stratus.store.objectstore.SimulatedNetworkObjectStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The handover of a store's hottest blocks to the next owner of its key groups: the old
 * owner's cache names them ({@link StateStore#hottestBlocks}), the new owner's store loads them
 * before anything else ({@link StateStore#warmCache}), only within its own key groups.
 */
class CacheWarmerTest {

  private static final int MAX_PARALLELISM = 128;
  private static final int KEYS = 40_000;
  /** Every 800th key is read often: 50 hot keys spread over every file and key group. */
  private static final int HOT_EVERY = 800;
  private static final KeyGroupRange LOWER = KeyGroupRange.of(0, 63);

  @TempDir
  Path dir;

  private LocalDirectoryObjectStore local;
  private SimulatedNetworkObjectStore objects;
  private final List<AutoCloseable> closing = new ArrayList<>();
  private CheckpointHandle handle;
  private StoreResources oldWorker;
  private List<BlockKey> handedOver;
  /** Bytes of the checkpoint's deltas: the writes its memtables held, read by no one yet. */
  private long deltaBytes;
  private List<String> storeFiles;

  /** Writes the state on the old owner, reads the hot keys there, and checkpoints. */
  @BeforeEach
  void oldOwner() {
    local = new LocalDirectoryObjectStore(dir.resolve("bucket"));
    objects = new SimulatedNetworkObjectStore(local, NetworkModel.none());
    // Smaller than the state, as where the handover matters: the cache is full, and its policy
    // has sorted the blocks read often from the rest.
    StoreResources old = worker(1 << 20);
    oldWorker = old;
    try (StateStore store = StateStore.create(old, options(), "old",
        KeyGroupRange.all(MAX_PARALLELISM))) {
      for (int i = 0; i < KEYS; i++) {
        store.put(StateStoreTest.key(i), value(i));
      }
      handle = store.checkpoint().join();
      deltaBytes = 0;
      for (String f : handle.files()) {
        if (!store.liveFiles().contains(f)) {
          deltaBytes += objects.head(f).join().orElseThrow().size();
        }
      }
      for (int round = 0; round < 20; round++) {
        for (int i = 0; i < KEYS; i += HOT_EVERY) {
          store.get(StateStoreTest.key(i)).join();
        }
      }
      handedOver = store.hottestBlocks();
      storeFiles = new ArrayList<>(handle.files());
      // A memtable sealed before the checkpoint may be flushed after it (the checkpoint holds
      // its deltas instead): its file is the store's too.
      storeFiles.addAll(store.liveFiles());
    }
  }

  @AfterEach
  void close() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
    objects.close();
    local.close();
  }

  private StoreResources worker() {
    return worker(16 << 20);
  }

  private StoreResources worker(long cacheBytes) {
    HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.memoryOnly(cacheBytes));
    StoreResources resources = StoreResources.create(objects, cache);
    closing.add(cache);
    closing.add(resources);
    return resources;
  }

  /** 64 bytes: 40,000 keys make about 3 MiB of files. */
  private static byte[] value(int i) {
    return String.format("value-%058d", i).getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  private static StoreOptions options() {
    // No compaction: the files the hot blocks name stay the files of the checkpoint.
    return StoreOptions.small().withCompactionEnabled(false).withMemtableBytes(1 << 20)
        .withHandoverBlocks(64);
  }

  @Test
  void theOldOwnersHottestBlocksAreTheBlocksOfItsHotKeysAndNoMore() {
    assertTrue(handedOver.size() <= 64, "more than handoverBlocks: " + handedOver.size());
    assertTrue(handedOver.size() >= KEYS / HOT_EVERY / 2, "too few hot blocks: " + handedOver);
    for (BlockKey k : handedOver) {
      assertTrue(storeFiles.stream().anyMatch(f -> k.file().endsWith(f)),
          k + " is not a block of the store's files");
    }
    try (StateStore off = StateStore.restore(worker(), options().withHandoverBlocks(0), "off",
        LOWER, List.of(handle)).join()) {
      assertEquals(List.of(), off.hottestBlocks(), "handoverBlocks 0 hands nothing over");
    }
  }

  /**
   * The old owner read the keys it wrote last from its memtable, so no handed-over block holds
   * them: they are in the checkpoint's deltas, the newest level-0 files, which the second pass
   * reads first.
   */
  @Test
  void theNewOwnerReadsItsHotKeysWithoutARequestOnceWarmedWithTheHandedOverBlocksAndDeltas() {
    assertTrue(deltaBytes > 0, "the checkpoint has no delta");
    long hotBytes = handedOver.stream().mapToLong(BlockKey::length).sum();
    long budget = hotBytes + deltaBytes;
    try (StateStore next = StateStore.restore(worker(), options(), "next", LOWER,
        List.of(handle)).join()) {
      long[] loaded = next.warmCache(budget, handedOver).join();
      assertTrue(loaded[0] > 0 && loaded[0] <= hotBytes, "hot bytes loaded: " + loaded[0]);
      // Four lanes of the second pass may each take one block past the budget.
      assertTrue(loaded[1] <= budget + 4 * 2048, "loaded " + loaded[1] + " of " + budget);
      long before = objects.requestCount();
      for (int i = 0; i < KEYS; i += HOT_EVERY) {
        if (LOWER.containsKey(StateStoreTest.key(i))) {
          assertArrayEquals(value(i),
              next.get(StateStoreTest.key(i)).join());
        }
      }
      assertEquals(before, objects.requestCount(), "a hot key was read from the bucket");
    }
  }

  @Test
  void onTheOldOwnersWorkerTheHotBlocksAreCachedAlreadyAndNotReadAgain() {
    long hotBytes = handedOver.stream().mapToLong(BlockKey::length).sum();
    try (StateStore same = StateStore.restore(oldWorker, options(), "same", LOWER,
        List.of(handle)).join()) {
      long before = objects.requestCount();
      long[] loaded = same.warmCache(hotBytes, handedOver).join();
      assertEquals(0, loaded[0], "hot blocks read again");
      assertTrue(objects.requestCount() - before <= loaded[1] / 1024 + 8,
          "more reads than the second pass's chunks");
    }
  }

  @Test
  void withoutTheHandoverTheSameBudgetWarmsInKeyOrderAndHotKeysMiss() {
    long hotBytes = handedOver.stream().mapToLong(BlockKey::length).sum();
    try (StateStore next = StateStore.restore(worker(), options(), "cold", LOWER,
        List.of(handle)).join()) {
      long[] loaded = next.warmCache(hotBytes, List.of()).join();
      assertEquals(0, loaded[0]);
      long before = objects.requestCount();
      for (int i = 0; i < KEYS; i += HOT_EVERY) {
        if (LOWER.containsKey(StateStoreTest.key(i))) {
          next.get(StateStoreTest.key(i)).join();
        }
      }
      assertTrue(objects.requestCount() > before, "every hot key was cached without the handover");
    }
  }
}
