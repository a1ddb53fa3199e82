package io.stratus.store.lsm;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.cache.HybridBlockCache;
import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.keygroup.KeyGroups;
import io.stratus.store.objectstore.AccessDeniedException;
import io.stratus.store.objectstore.FaultInjector;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.NetworkModel;
import io.stratus.store.objectstore.ObjectInfo;
import io.stratus.store.objectstore.ObjectNotFoundException;
import io.stratus.store.objectstore.SimulatedNetworkObjectStore;
import io.stratus.store.sst.CorruptSstException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Focused behaviour of {@link StateStore} on a real local-directory object store. */
class StateStoreTest {

  private static final int MAX_PARALLELISM = 128;

  @TempDir
  Path dir;

  private LocalDirectoryObjectStore local;
  private SimulatedNetworkObjectStore objects;
  private HybridBlockCache cache;
  private StoreResources resources;

  @BeforeEach
  void open() {
    local = new LocalDirectoryObjectStore(dir.resolve("bucket"));
    objects = new SimulatedNetworkObjectStore(local, NetworkModel.none());
    cache = newCache();
    resources = StoreResources.create(objects, cache);
  }

  @AfterEach
  void close() {
    resources.close();
    cache.close();
    objects.close();
    local.close();
  }

  private HybridBlockCache newCache() {
    return new HybridBlockCache(BlockCacheConfig.memoryOnly(4 << 20));
  }

  private static StoreOptions options() {
    return StoreOptions.small();
  }

  static byte[] key(int keyGroup, String suffix) {
    byte[] s = suffix.getBytes(StandardCharsets.UTF_8);
    byte[] k = new byte[2 + s.length];
    System.arraycopy(KeyGroups.prefix(keyGroup), 0, k, 0, 2);
    System.arraycopy(s, 0, k, 2, s.length);
    return k;
  }

  static byte[] key(int i) {
    return key(i % MAX_PARALLELISM, "key-" + i);
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private StateStore newStore(String id) {
    return StateStore.create(resources, options(), id, KeyGroupRange.all(MAX_PARALLELISM));
  }

  @Test
  void mergeAppendsAcrossMemtablesFilesAndCompaction() {
    try (StateStore store = newStore("merge")) {
      byte[] k = key(7, "list");
      store.merge(k, bytes("a"));
      store.flush().join();
      store.merge(k, bytes("b"));
      assertArrayEquals(bytes("ab"), store.get(k).join());
      store.put(k, bytes("X"));
      store.merge(k, bytes("c"));
      store.flush().join();
      assertArrayEquals(bytes("Xc"), store.get(k).join());
      store.delete(k);
      store.merge(k, bytes("d"));
      store.flush().join();
      assertArrayEquals(bytes("d"), store.get(k).join());
      for (int i = 0; i < 3000; i++) {
        store.put(key(i), bytes("v" + i));
      }
      store.merge(k, bytes("e"));
      store.flush().join();
      store.awaitCompactions().join();
      assertArrayEquals(bytes("de"), store.get(k).join());
      assertTrue(store.metrics().compactions() > 0, "compactions ran");
    }
  }

  @Test
  void iteratorKeepsItsSnapshotWhileWritesFlushesAndCompactionsRun() {
    try (StateStore store = newStore("snapshot")) {
      for (int i = 0; i < 2000; i++) {
        store.put(key(i), bytes("old-" + i));
      }
      store.flush().join();
      for (int i = 2000; i < 2500; i++) {
        store.put(key(i), bytes("old-" + i));
      }
      try (StoreIterator it = store.iterator(null, null)) {
        for (int i = 0; i < 2500; i++) {
          if (i % 3 == 0) {
            store.delete(key(i));
          } else {
            store.put(key(i), bytes("new-" + i));
          }
        }
        store.put(key(99_999), bytes("added"));
        store.flush().join();
        store.awaitCompactions().join();
        Set<String> seen = new HashSet<>();
        while (it.hasNext()) {
          KeyValue kv = it.next();
          String value = new String(kv.value(), StandardCharsets.UTF_8);
          assertTrue(value.startsWith("old-"), "iterator saw a later write: " + value);
          seen.add(value);
        }
        assertEquals(2500, seen.size());
      }
      try (StoreIterator it = store.iterator(null, null)) {
        int live = 0;
        while (it.hasNext()) {
          String value = new String(it.next().value(), StandardCharsets.UTF_8);
          assertFalse(value.startsWith("old-"), "a new iterator saw an overwritten value");
          live++;
        }
        assertEquals(2500 - 834 + 1, live);
      }
    }
  }

  @Test
  void concurrentReadersSeeOnlyWrittenValuesWhileFlushesAndCompactionsRun() throws Exception {
    int keys = 500;
    try (StateStore store = newStore("concurrent")) {
      for (int i = 0; i < keys; i++) {
        store.put(key(i), bytes(i + ":0"));
      }
      AtomicBoolean done = new AtomicBoolean();
      ExecutorService readers = Executors.newFixedThreadPool(3);
      List<Future<Integer>> results = new ArrayList<>();
      for (int r = 0; r < 3; r++) {
        results.add(readers.submit(() -> {
          int reads = 0;
          int[] lastRound = new int[keys];
          java.util.Random random = new java.util.Random();
          while (!done.get()) {
            int i = random.nextInt(keys);
            String v = new String(store.get(key(i)).join(), StandardCharsets.UTF_8);
            String[] parts = v.split(":");
            assertEquals(String.valueOf(i), parts[0], "value of another key");
            int round = Integer.parseInt(parts[1]);
            assertTrue(round >= lastRound[i], "key " + i + " went back from round "
                + lastRound[i] + " to " + round);
            lastRound[i] = round;
            reads++;
          }
          return reads;
        }));
      }
      for (int round = 1; round <= 30; round++) {
        for (int i = 0; i < keys; i++) {
          store.put(key(i), bytes(i + ":" + round));
        }
        if (round % 5 == 0) {
          store.flush().join();
        }
      }
      store.awaitCompactions().join();
      done.set(true);
      int total = 0;
      for (Future<Integer> f : results) {
        total += f.get();
      }
      readers.shutdown();
      assertTrue(total > 0);
      assertTrue(store.metrics().flushes() >= 6);
      for (int i = 0; i < keys; i++) {
        assertArrayEquals(bytes(i + ":30"), store.get(key(i)).join());
      }
    }
  }

  @Test
  void checkpointUploadsTheDeltaNotTheState() {
    // Deltas at checkpoints only, so that each checkpoint uploads exactly the writes since the
    // one before.
    StoreOptions noCompaction = options().withCompactionEnabled(false)
        .withMemtableBytes(1 << 20).withLevel1TargetBytes(4 << 20).withTargetFileBytes(1 << 20)
        .withDeltaIntervalMillis(0);
    try (StateStore store = StateStore.create(resources, noCompaction, "delta",
        KeyGroupRange.all(MAX_PARALLELISM))) {
      int next = 0;
      for (; next < 2_000; next++) {
        store.put(key(next), new byte[100]);
      }
      store.checkpoint().join();
      long small = deltaCheckpointBytes(store, next, 2_000);
      next += 2_000;
      for (; next < 100_000; next++) {
        store.put(key(next), new byte[100]);
      }
      store.checkpoint().join();
      long large = deltaCheckpointBytes(store, next, 2_000);
      assertTrue(large < small * 1.5, "checkpoint of a 2000-key delta uploaded "
          + small + " bytes with a small state and " + large + " bytes with a 25x state");
      assertTrue(store.metrics().totalBytes() > 10 * small);
    }
  }

  private long deltaCheckpointBytes(StateStore store, int from, int count) {
    store.flush().join();
    store.checkpoint().join();
    for (int i = from; i < from + count; i++) {
      store.put(key(i), new byte[100]);
    }
    long before = objects.bytesWritten();
    store.checkpoint().join();
    return objects.bytesWritten() - before;
  }

  @Test
  void aCheckpointHoldsExactlyTheWritesBeforeItAndFlushesNothing() {
    StoreOptions big = options().withMemtableBytes(8 << 20);
    CompletableFuture<CheckpointHandle> pending;
    try (StateStore store = StateStore.create(resources, big, "exact",
        KeyGroupRange.all(MAX_PARALLELISM))) {
      for (int i = 0; i < 2000; i++) {
        store.put(key(i), bytes("v1-" + i));
      }
      store.merge(key(1), bytes("+a"));
      store.delete(key(2));
      pending = store.checkpoint();
      // After the checkpoint's call, before it completes: none of this may be in it.
      for (int i = 0; i < 2000; i += 2) {
        store.put(key(i), bytes("v2-" + i));
      }
      store.merge(key(1), bytes("+b"));
      store.put(key(2), bytes("back"));
      store.put(key(5000), bytes("later"));
      CheckpointHandle handle = pending.join();
      assertEquals(0, store.metrics().flushes(), "the checkpoint sealed the memtable");
      assertTrue(store.metrics().deltas() > 0);
      try (StateStore restored = StateStore.restore(resources, big, "exact-2",
          KeyGroupRange.all(MAX_PARALLELISM), List.of(handle)).join()) {
        assertArrayEquals(bytes("v1-1+a"), restored.get(key(1)).join());
        assertNull(restored.get(key(2)).join());
        assertNull(restored.get(key(5000)).join());
        for (int i = 3; i < 2000; i++) {
          assertArrayEquals(bytes("v1-" + i), restored.get(key(i)).join(), "key " + i);
        }
      }
      assertArrayEquals(bytes("v1-1+a+b"), store.get(key(1)).join());
    }
  }

  @Test
  void deltasUploadInTheBackgroundSoACheckpointUploadsOnlyTheLastInterval() {
    StoreOptions streaming = options().withMemtableBytes(64 << 20).withDeltaIntervalMillis(5)
        .withCompactionEnabled(false);
    try (StateStore store = StateStore.create(resources, streaming, "streaming",
        KeyGroupRange.all(MAX_PARALLELISM))) {
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
      int i = 0;
      while (System.nanoTime() < deadline) {
        store.put(key(i), new byte[100]);
        i++;
      }
      long deltas = store.metrics().deltas();
      await().atMost(Duration.ofSeconds(10)).until(() -> store.metrics().deltas() > 10);
      long written = store.metrics().deltaBytes();
      long before = objects.bytesWritten();
      store.checkpoint().join();
      long checkpoint = objects.bytesWritten() - before;
      assertTrue(checkpoint * 5 < written, "the checkpoint uploaded " + checkpoint
          + " bytes; the " + deltas + " deltas before it " + written + " bytes");
      // Far from full, the 64 MiB memtable was flushed all the same: one with its last allowed
      // delta is, so the deltas a checkpoint lists (and a restored store reads as level-0
      // files) stay few however long the writes go on.
      assertTrue(store.metrics().flushes() > 0, "no memtable was flushed after "
          + StateStore.MAX_DELTAS_PER_MEMTABLE + " deltas: " + store.metrics());
      assertTrue(store.metrics().memtableBytes() < 32 << 20);
      assertArrayEquals(new byte[100], store.get(key(i - 1)).join());
    }
  }

  @Test
  void deltasNoCheckpointListedAreDeletedOnceTheirMemtableIsFlushedListedOnesStay() {
    StoreOptions streaming = options().withMemtableBytes(64 << 20).withDeltaIntervalMillis(1)
        .withCompactionEnabled(false);
    List<String> listed;
    try (StateStore store = StateStore.create(resources, streaming, "owned",
        KeyGroupRange.all(MAX_PARALLELISM))) {
      for (int i = 0; i < 500; i++) {
        store.put(key(i), bytes("v" + i));
      }
      listed = store.checkpoint().join().files();
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
      for (int i = 500; System.nanoTime() < deadline || i < 1000; i++) {
        store.put(key(i), bytes("v" + i));
      }
      store.flush().join();
      await().atMost(Duration.ofSeconds(10)).until(() -> store.metrics().deltas() > 1);
      List<String> expected = new ArrayList<>(listed);
      expected.addAll(store.liveFiles());
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertEquals(
          new TreeSet<>(expected), new TreeSet<>(sstObjects())));
    }
    assertTrue(sstObjects().containsAll(listed), "a delta a checkpoint lists was deleted");
  }

  private List<String> sstObjects() {
    return objects.list("sst/").join().stream().map(ObjectInfo::key).toList();
  }

  @Test
  void smallLevel0FilesAreMergedWithinLevel0BeforeTheyGoToLevel1() {
    // Flushes of 64 KiB memtables make files far below half the 4 MiB target.
    StoreOptions smallFlushes = options().withLevel1TargetBytes(64 << 20)
        .withTargetFileBytes(4 << 20).withL0Triggers(4, 40);
    try (StateStore store = StateStore.create(resources, smallFlushes, "intra",
        KeyGroupRange.all(MAX_PARALLELISM))) {
      int next = 0;
      for (int flush = 0; flush < 4; flush++) {
        for (int i = 0; i < 300; i++, next++) {
          store.put(key(next % 700), bytes("v" + next));
        }
        store.flush().join();
      }
      store.awaitCompactions().join();
      StoreMetrics merged = store.metrics();
      assertEquals(List.of(1, 0), merged.levelFiles().subList(0, 2),
          "four small flushes are merged into one level-0 file: " + merged.levelFiles());
      for (int flush = 0; flush < 40; flush++) {
        for (int i = 0; i < 300; i++, next++) {
          store.put(key(next % 700), bytes("v" + next));
        }
        store.flush().join();
      }
      store.awaitCompactions().join();
      assertTrue(store.metrics().levelFiles().get(0) <= 4, store.metrics().levelFiles()
          .toString());
      for (int k = 0; k < 700; k++) {
        int last = next - 1 - Math.floorMod(next - 1 - k, 700);
        assertArrayEquals(bytes("v" + last), store.get(key(k)).join(), "key " + k);
      }
    }
  }

  @Test
  void restoreReadsManifestsOnlyAndSplitsTheKeyGroupRange() {
    // Without compaction, which would read and write files in the background.
    StoreOptions quiet = options().withCompactionEnabled(false);
    CheckpointHandle handle;
    try (StateStore store = StateStore.create(resources, quiet, "origin",
        KeyGroupRange.all(MAX_PARALLELISM))) {
      for (int i = 0; i < 5000; i++) {
        store.put(key(i), bytes("v" + i));
      }
      handle = store.checkpoint().join();
    }
    long requests = objects.requestCount();
    KeyGroupRange lower = KeyGroupRange.of(0, 63);
    KeyGroupRange upper = KeyGroupRange.of(64, 127);
    try (StateStore a = StateStore.restore(resources, quiet, "lower", lower,
            List.of(handle)).join();
        StateStore b = StateStore.restore(resources, quiet, "upper", upper,
            List.of(handle)).join()) {
      assertEquals(requests + 2, objects.requestCount(), "restore read more than two manifests");
      for (int i = 0; i < 5000; i++) {
        StateStore owner = lower.containsKey(key(i)) ? a : b;
        assertArrayEquals(bytes("v" + i), owner.get(key(i)).join());
      }
      int count = 0;
      try (StoreIterator it = a.iterator(null, null)) {
        while (it.hasNext()) {
          assertTrue(lower.containsKey(it.next().key()), "a scan left the store's key groups");
          count++;
        }
      }
      int expected = 0;
      for (int i = 0; i < 5000; i++) {
        expected += lower.containsKey(key(i)) ? 1 : 0;
      }
      assertEquals(expected, count);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> a.put(key(100, "x"), bytes("y")));
      assertTrue(e.getMessage().contains("key group 100") && e.getMessage().contains("[0, 63]"),
          e.getMessage());

      a.put(key(1, "new"), bytes("a"));
      b.put(key(100, "new"), bytes("b"));
      CheckpointHandle ha = a.checkpoint().join();
      CheckpointHandle hb = b.checkpoint().join();
      try (StateStore merged = StateStore.restore(resources, options(), "merged",
          KeyGroupRange.all(MAX_PARALLELISM), List.of(hb, ha)).join()) {
        assertArrayEquals(bytes("a"), merged.get(key(1, "new")).join());
        assertArrayEquals(bytes("b"), merged.get(key(100, "new")).join());
        assertEquals(5002, merged.scan(null, null, Integer.MAX_VALUE).join().size());
      }
    }
  }

  @Test
  void restoreRejectsHandlesThatDoNotCoverOrOverlap() {
    CheckpointHandle handle;
    try (StateStore store = StateStore.create(resources, options(), "part",
        KeyGroupRange.of(0, 63))) {
      store.put(key(3, "a"), bytes("b"));
      handle = store.checkpoint().join();
    }
    CompletionException missing = assertThrows(CompletionException.class,
        () -> StateStore.restore(resources, options(), "x", KeyGroupRange.of(0, 127),
            List.of(handle)).join());
    assertTrue(missing.getCause().getMessage().contains("no checkpoint handle covers key "
        + "groups [64, 127]"), missing.getCause().getMessage());
    CompletionException overlap = assertThrows(CompletionException.class,
        () -> StateStore.restore(resources, options(), "x", KeyGroupRange.of(0, 63),
            List.of(handle, handle)).join());
    assertTrue(overlap.getCause().getMessage().contains("both cover key groups [0, 63]"),
        overlap.getCause().getMessage());
  }

  @Test
  void twoInstancesOfOneStoreAreFencedAtTheirFirstCheckpoint() {
    CheckpointHandle handle;
    try (StateStore store = newStore("fenced")) {
      store.put(key(1), bytes("1"));
      handle = store.checkpoint().join();
    }
    try (StateStore first = StateStore.restore(resources, options(), "fenced",
            KeyGroupRange.all(MAX_PARALLELISM), List.of(handle)).join();
        StateStore zombie = StateStore.restore(resources, options(), "fenced",
            KeyGroupRange.all(MAX_PARALLELISM), List.of(handle)).join()) {
      first.put(key(2), bytes("2"));
      assertEquals(handle.version() + 1, first.checkpoint().join().version());
      zombie.put(key(3), bytes("3"));
      CompletionException e = assertThrows(CompletionException.class,
          () -> zombie.checkpoint().join());
      assertInstanceOf(FencedException.class, e.getCause());
      assertTrue(e.getCause().getMessage().contains("already published"));
    }
  }

  @Test
  void aFlippedByteInABlockIsAnErrorNamingFileAndOffset() throws Exception {
    CheckpointHandle handle;
    try (StateStore store = newStore("corrupt")) {
      for (int i = 0; i < 400; i++) {
        store.put(key(i), bytes("value-" + i));
      }
      handle = store.checkpoint().join();
    }
    String file = handle.files().get(0);
    try (RandomAccessFile raf = new RandomAccessFile(local.root().resolve(file).toFile(), "rw")) {
      raf.seek(10);
      int b = raf.read();
      raf.seek(10);
      raf.write(b ^ 0x40);
    }
    try (HybridBlockCache fresh = newCache();
        StoreResources other = StoreResources.create(objects, fresh);
        StateStore store = StateStore.restore(other, options(), "corrupt-reader",
            KeyGroupRange.all(MAX_PARALLELISM), List.of(handle)).join()) {
      int failures = 0;
      for (int i = 0; i < 400; i++) {
        try {
          assertArrayEquals(bytes("value-" + i), store.get(key(i)).join());
        } catch (CompletionException e) {
          CorruptSstException c = assertInstanceOf(CorruptSstException.class, e.getCause());
          assertEquals(file, c.file());
          assertEquals(0, c.offset(), "the flipped byte is in the first block");
          assertTrue(c.getMessage().contains(file) && c.getMessage().contains("offset 0"));
          failures++;
        }
      }
      assertTrue(failures > 0, "no read touched the corrupt block");
      assertThrows(CorruptSstException.class, () -> {
        try (StoreIterator it = store.iterator(null, null)) {
          while (it.hasNext()) {
            it.next();
          }
        }
      });
    }
  }

  @Test
  void aMissingFileIsAnErrorNamingTheObject() {
    CheckpointHandle handle;
    try (StateStore store = newStore("missing")) {
      store.put(key(5), bytes("x"));
      handle = store.checkpoint().join();
    }
    local.delete(handle.files()).join();
    try (StateStore store = StateStore.restore(resources, options(), "missing-reader",
        KeyGroupRange.all(MAX_PARALLELISM), List.of(handle)).join()) {
      CompletionException e = assertThrows(CompletionException.class,
          () -> store.get(key(5)).join());
      ObjectNotFoundException nf = assertInstanceOf(ObjectNotFoundException.class, e.getCause());
      assertEquals(handle.files().get(0), nf.key());
    }
  }

  @Test
  void aDeniedUploadFailsTheCheckpointAndLosesNoData() {
    try (StateStore store = newStore("denied")) {
      for (int i = 0; i < 300; i++) {
        store.put(key(i), bytes("v" + i));
      }
      objects.setFaults(FaultInjector.denyWrites(k -> k.startsWith("sst/")));
      CompletionException e = assertThrows(CompletionException.class,
          () -> store.checkpoint().join());
      assertTrue(e.getCause().getMessage().contains("access denied"), e.getCause().getMessage());
      assertInstanceOf(AccessDeniedException.class, e.getCause().getCause());
      for (int i = 0; i < 300; i++) {
        assertArrayEquals(bytes("v" + i), store.get(key(i)).join(), "lost key " + i);
      }
      objects.setFaults(FaultInjector.NONE);
      CheckpointHandle handle = store.checkpoint().join();
      try (StateStore restored = StateStore.restore(resources, options(), "denied-restored",
          KeyGroupRange.all(MAX_PARALLELISM), List.of(handle)).join()) {
        for (int i = 0; i < 300; i++) {
          assertArrayEquals(bytes("v" + i), restored.get(key(i)).join());
        }
      }
    }
  }

  @Test
  void filesCompactedAwayBeforeAnyCheckpointAreDeletedAndCheckpointedOnesKept() {
    try (StateStore store = newStore("gc")) {
      for (int i = 0; i < 6000; i++) {
        store.put(key(i % 1500), bytes("v" + i));
      }
      store.flush().join();
      store.awaitCompactions().join();
      assertTrue(store.metrics().compactions() > 0);
      awaitSstObjects(Set.copyOf(store.liveFiles()));
      CheckpointHandle handle = store.checkpoint().join();
      for (int i = 0; i < 6000; i++) {
        store.put(key(i % 1500), bytes("w" + i));
      }
      store.flush().join();
      store.awaitCompactions().join();
      Set<String> expected = new HashSet<>(store.liveFiles());
      expected.addAll(handle.files());
      awaitSstObjects(expected);

      SharedFileRegistry registry = new SharedFileRegistry(objects);
      registry.register("1", List.of(handle));
      CheckpointHandle second = store.checkpoint().join();
      registry.register("2", List.of(second));
      List<String> deleted = registry.release("1").join();
      for (String f : deleted) {
        assertFalse(second.files().contains(f), "deleted a file checkpoint 2 references: " + f);
      }
      assertTrue(deleted.contains(handle.manifestKey()));
      for (String f : second.files()) {
        assertTrue(local.head(f).join().isPresent(), "file of checkpoint 2 is gone: " + f);
      }
      try (StateStore restored = StateStore.restore(resources, options(), "gc-restored",
          KeyGroupRange.all(MAX_PARALLELISM), List.of(second)).join()) {
        assertArrayEquals(bytes("w5999"), restored.get(key(5999 % 1500)).join());
      }
    }
  }

  private void awaitSstObjects(Set<String> expected) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    Set<String> actual;
    do {
      actual = new HashSet<>();
      for (ObjectInfo o : local.list("sst/").join()) {
        actual.add(o.key());
      }
      if (actual.equals(expected)) {
        return;
      }
      Thread.onSpinWait();
    } while (System.nanoTime() < deadline);
    assertEquals(expected, actual, "SST objects in the bucket");
  }

  @Test
  void writersAreSlowedNotFailedWhenFlushesFallBehind() {
    objects.setModel(new NetworkModel(Duration.ofMillis(30), 2_000_000));
    StoreOptions tight = options().withMaxImmutableMemtables(1);
    try (StateStore store = StateStore.create(resources, tight, "stall",
        KeyGroupRange.all(MAX_PARALLELISM))) {
      for (int i = 0; i < 20_000; i++) {
        store.put(key(i), new byte[64]);
      }
      assertTrue(store.metrics().writeStallNanos() > 0, "writers never stalled");
      store.flush().join();
      for (int i = 0; i < 20_000; i += 997) {
        assertEquals(64, store.get(key(i)).join().length);
      }
    }
  }

  @Test
  void keysOutsideTheStoresKeyGroupsAreRejected() {
    try (StateStore store = StateStore.create(resources, options(), "range",
        KeyGroupRange.of(10, 20))) {
      assertThrows(IllegalArgumentException.class, () -> store.put(key(9, "a"), bytes("b")));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> store.get(key(21, "a")));
      assertTrue(e.getMessage().contains("key group 21"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> store.put(new byte[1], bytes("b")));
      store.put(key(10, "a"), bytes("b"));
      assertNull(store.get(key(20, "a")).join());
    }
  }
}
