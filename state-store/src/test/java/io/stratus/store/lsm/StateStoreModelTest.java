package io.stratus.store.lsm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.cache.HybridBlockCache;
import io.stratus.s3.EmbeddedS3Server;
import io.stratus.store.TestObjectStores;
import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.keygroup.KeyGroups;
import io.stratus.store.objectstore.ObjectStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A long random sequence of writes, reads, scans, flushes, compactions, checkpoints, restores
 * from random earlier checkpoints, and splits and merges of the key-group range, checked against
 * an in-memory sorted map after every step. Runs against a local directory and against S3
 * (S3Proxy on loopback). The seed is printed in every failure.
 */
class StateStoreModelTest {

  private static final int MAX_PARALLELISM = 16;
  /** Steps per run; on S3 each step costs loopback round trips, so the S3 run takes fewer. */
  private static final int OPERATIONS = 4000;
  private static final int OPERATIONS_ON_S3 = 800;
  private static EmbeddedS3Server s3;

  @BeforeAll
  static void startS3() {
    s3 = TestObjectStores.startS3();
  }

  @AfterAll
  static void stopS3() {
    s3.close();
  }

  /** A store and the key groups it owns. */
  private record Part(KeyGroupRange range, StateStore store) {}

  /** A completed checkpoint of every part, and the model at that moment. */
  private record Snapshot(List<CheckpointHandle> handles, NavigableMap<byte[], byte[]> model) {}

  @ParameterizedTest
  @EnumSource(TestObjectStores.Kind.class)
  void randomOperationsMatchASortedMap(TestObjectStores.Kind kind, @TempDir Path dir) {
    long seed = System.nanoTime();
    run(kind, dir, seed);
  }

  private void run(TestObjectStores.Kind kind, Path dir, long seed) {
    Random random = new Random(seed);
    String context = "seed " + seed + " on " + kind;
    StoreOptions options = StoreOptions.small().withMaxParallelism(MAX_PARALLELISM)
        .withMemtableBytes(64 << 10).withTargetFileBytes(16 << 10).withBlockSize(512)
        .withLevel1TargetBytes(48 << 10);
    try (ObjectStore objects = TestObjectStores.open(kind, dir, s3);
        HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.defaults()
            .withMemoryBytes(2 << 20).withDiskBytes(4 << 20)
            .withDiskDirectory(dir.resolve("cache")));
        StoreResources resources = StoreResources.create(objects, cache)) {
      NavigableMap<byte[], byte[]> model = new TreeMap<>(Arrays::compareUnsigned);
      List<Part> parts = new ArrayList<>();
      parts.add(new Part(KeyGroupRange.all(MAX_PARALLELISM), StateStore.create(resources,
          options, "model/0", KeyGroupRange.all(MAX_PARALLELISM))));
      List<Snapshot> snapshots = new ArrayList<>();
      int[] storeCounter = {1};

      int operations = kind == TestObjectStores.Kind.S3 ? OPERATIONS_ON_S3 : OPERATIONS;
      for (int step = 0; step < operations; step++) {
        String at = context + ", step " + step;
        int dice = random.nextInt(100);
        if (dice < 30) {
          byte[] key = randomKey(random);
          byte[] value = randomValue(random);
          partOf(parts, key).store.put(key, value);
          model.put(key, value);
        } else if (dice < 38) {
          byte[] key = randomKey(random);
          partOf(parts, key).store.delete(key);
          model.remove(key);
        } else if (dice < 48) {
          byte[] key = randomKey(random);
          byte[] operand = randomValue(random);
          partOf(parts, key).store.merge(key, operand);
          byte[] old = model.getOrDefault(key, new byte[0]);
          byte[] merged = Arrays.copyOf(old, old.length + operand.length);
          System.arraycopy(operand, 0, merged, old.length, operand.length);
          model.put(key, merged);
        } else if (dice < 75) {
          byte[] key = randomKey(random);
          byte[] actual = partOf(parts, key).store.get(key).join();
          assertArrayEquals(model.get(key), actual, at + ": get " + hex(key));
        } else if (dice < 82) {
          Part part = parts.get(random.nextInt(parts.size()));
          byte[] a = randomKey(random);
          byte[] b = randomKey(random);
          byte[] from = Arrays.compareUnsigned(a, b) <= 0 ? a : b;
          byte[] to = from == a ? b : a;
          checkScan(part, model, from, to, at);
        } else if (dice < 86) {
          parts.get(random.nextInt(parts.size())).store.flush().join();
        } else if (dice < 88) {
          parts.get(random.nextInt(parts.size())).store.awaitCompactions().join();
        } else if (dice < 93) {
          snapshots.add(checkpointAll(parts, model));
        } else if (dice < 96 && !snapshots.isEmpty()) {
          Snapshot s = snapshots.get(random.nextInt(snapshots.size()));
          closeAll(parts);
          parts = restore(resources, options, s.handles, random, storeCounter);
          model = new TreeMap<>(Arrays::compareUnsigned);
          model.putAll(s.model);
        } else if (dice < 100) {
          Snapshot s = checkpointAll(parts, model);
          snapshots.add(s);
          closeAll(parts);
          parts = restore(resources, options, s.handles, random, storeCounter);
        }
      }
      for (Part part : parts) {
        checkScan(part, model, null, null, context + ", final scan of " + part.range);
        part.store.awaitCompactions().join();
        checkScan(part, model, null, null, context + ", final scan after compaction");
      }
      closeAll(parts);
    }
  }

  private static Snapshot checkpointAll(List<Part> parts, NavigableMap<byte[], byte[]> model) {
    List<CheckpointHandle> handles = new ArrayList<>();
    for (Part p : parts) {
      handles.add(p.store.checkpoint().join());
    }
    NavigableMap<byte[], byte[]> copy = new TreeMap<>(Arrays::compareUnsigned);
    copy.putAll(model);
    return new Snapshot(handles, copy);
  }

  /** Opens the whole key-group space as 1 to 4 random contiguous parts. */
  private static List<Part> restore(StoreResources resources, StoreOptions options,
      List<CheckpointHandle> handles, Random random, int[] counter) {
    int partCount = 1 + random.nextInt(4);
    List<Integer> cuts = new ArrayList<>();
    while (cuts.size() < partCount - 1) {
      int cut = 1 + random.nextInt(MAX_PARALLELISM - 1);
      if (!cuts.contains(cut)) {
        cuts.add(cut);
      }
    }
    cuts.sort(null);
    cuts.add(MAX_PARALLELISM);
    List<Part> parts = new ArrayList<>();
    int start = 0;
    for (int cut : cuts) {
      KeyGroupRange range = KeyGroupRange.of(start, cut - 1);
      StateStore store = StateStore.restore(resources, options, "model/" + counter[0]++, range,
          handles).join();
      parts.add(new Part(range, store));
      start = cut;
    }
    return parts;
  }

  private static void checkScan(Part part, NavigableMap<byte[], byte[]> model, byte[] from,
      byte[] to, String at) {
    List<Map.Entry<byte[], byte[]>> expected = new ArrayList<>();
    for (Map.Entry<byte[], byte[]> e : model.entrySet()) {
      boolean inRange = part.range.containsKey(e.getKey())
          && (from == null || Arrays.compareUnsigned(e.getKey(), from) >= 0)
          && (to == null || Arrays.compareUnsigned(e.getKey(), to) < 0);
      if (inRange) {
        expected.add(e);
      }
    }
    List<KeyValue> actual = part.store.scan(from, to, Integer.MAX_VALUE).join();
    assertEquals(expected.size(), actual.size(), at + ": scan size of " + part.range);
    for (int i = 0; i < expected.size(); i++) {
      assertArrayEquals(expected.get(i).getKey(), actual.get(i).key(), at + ": scan key " + i);
      assertArrayEquals(expected.get(i).getValue(), actual.get(i).value(),
          at + ": scan value of " + hex(actual.get(i).key()));
    }
  }

  private static Part partOf(List<Part> parts, byte[] key) {
    for (Part p : parts) {
      if (p.range.containsKey(key)) {
        return p;
      }
    }
    throw new AssertionError("no part owns " + hex(key));
  }

  private static void closeAll(List<Part> parts) {
    for (Part p : parts) {
      p.store.close();
    }
  }

  private static byte[] randomKey(Random random) {
    int keyGroup = random.nextInt(MAX_PARALLELISM);
    int id = random.nextInt(400);
    byte[] prefix = KeyGroups.prefix(keyGroup);
    byte[] suffix = ("k" + id).getBytes();
    byte[] key = Arrays.copyOf(prefix, 2 + suffix.length);
    System.arraycopy(suffix, 0, key, 2, suffix.length);
    return key;
  }

  private static byte[] randomValue(Random random) {
    byte[] v = new byte[1 + random.nextInt(40)];
    random.nextBytes(v);
    return v;
  }

  private static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }
}
