package io.stratus.s3test;

import static io.stratus.store.objectstore.Await.failure;
import static io.stratus.store.objectstore.Await.join;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.stratus.store.objectstore.BucketNotFoundException;
import io.stratus.store.objectstore.ObjectInfo;
import io.stratus.store.objectstore.ObjectNotFoundException;
import io.stratus.store.objectstore.ObjectStore;
import io.stratus.store.objectstore.ObjectStoreException;
import io.stratus.store.objectstore.S3Config;
import io.stratus.store.objectstore.S3ObjectStore;
import io.stratus.store.objectstore.VersionedObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The {@link ObjectStore} contract, run against every {@link StoreTarget}: a local directory,
 * S3Proxy on loopback and LocalStack (where Docker exists). Everything above the SPI relies on
 * these behaviours being the same on all of them.
 */
class ObjectStoreContractTest {

  @RegisterExtension
  static final StoreTargets targets = new StoreTargets();

  @TempDir
  Path dir;

  /** A fresh, empty store; {@link StoreTargets#close()} closes it. */
  private ObjectStore open(StoreTarget target) {
    return targets.open(target, dir);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] random(long seed, int size) {
    byte[] data = new byte[size];
    new Random(seed).nextBytes(data);
    return data;
  }

  /** Writes {@code count} small objects concurrently; returns their keys in order. */
  private static List<String> putMany(ObjectStore store, String prefix, int count) {
    List<String> keys = new ArrayList<>();
    List<CompletableFuture<Void>> puts = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String key = String.format("%sk%05d", prefix, i);
      keys.add(key);
      puts.add(store.put(key, bytes("v" + i)));
    }
    join(CompletableFuture.allOf(puts.toArray(CompletableFuture[]::new)));
    return keys;
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreTarget.class)
  void putThenGetRoundTripsAndPutReplaces(StoreTarget target) {
    ObjectStore store = open(target);
    byte[] first = random(1, 5000);
    join(store.put("a/b/object", first));
    assertArrayEquals(first, join(store.get("a/b/object")));

    // Shorter second version: a replace that kept stale tail bytes would show here.
    byte[] second = random(2, 1234);
    join(store.put("a/b/object", second));
    assertArrayEquals(second, join(store.get("a/b/object")));
    assertEquals(1234, join(store.head("a/b/object")).orElseThrow().size());

    join(store.put("empty", new byte[0]));
    assertArrayEquals(new byte[0], join(store.get("empty")));
    assertEquals(0, join(store.head("empty")).orElseThrow().size());
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreTarget.class)
  void rangedReadsReturnExactlyTheRequestedBytes(StoreTarget target) {
    ObjectStore store = open(target);
    int size = 10_007;
    byte[] data = random(3, size);
    join(store.put("ranged", data));
    int[][] ranges = {
        {0, 1}, {1, 1}, {3, 5}, {4093, 4099}, {size - 1, 1}, {0, size}, {size - 17, 17},
        {17, 0}, {size, 0}, {0, 0}};
    for (int[] r : ranges) {
      byte[] got = join(store.getRange("ranged", r[0], r[1]));
      assertArrayEquals(Arrays.copyOfRange(data, r[0], r[0] + r[1]), got,
          "range offset=" + r[0] + " length=" + r[1]);
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreTarget.class)
  void rangedReadBeyondTheEndFailsNamingTheKey(StoreTarget target) {
    ObjectStore store = open(target);
    join(store.put("short", random(4, 100)));
    // Starting inside the object and running past its end, and starting past its end.
    for (long[] r : new long[][] {{97, 10}, {0, 101}, {100, 1}, {250, 3}}) {
      String m = failure(ObjectStoreException.class,
          store.getRange("short", r[0], (int) r[1])).getMessage();
      String range = "range " + Arrays.toString(r) + ": ";
      assertTrue(m.contains("short"), range + "message names the key: " + m);
      assertTrue(m.contains("only 100 bytes") || m.contains("beyond the end"),
          range + "message says why: " + m);
      // A range past the end is final: retrying it would only delay the error.
      assertFalse(m.contains("attempts"), range + "was retried: " + m);
    }
    failure(IllegalArgumentException.class, store.getRange("short", -1, 3));
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreTarget.class)
  void putIfAbsentCreatesOnceAndKeepsTheFirstContent(StoreTarget target) {
    ObjectStore store = open(target);
    assertTrue(join(store.putIfAbsent("manifest/0001", bytes("first"))));
    assertFalse(join(store.putIfAbsent("manifest/0001", bytes("second, longer"))));
    assertArrayEquals(bytes("first"), join(store.get("manifest/0001")));
    // An unconditional put still replaces, and the key then still counts as present.
    join(store.put("manifest/0001", bytes("third")));
    assertFalse(join(store.putIfAbsent("manifest/0001", bytes("fourth"))));
    assertArrayEquals(bytes("third"), join(store.get("manifest/0001")));
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreTarget.class)
  void racingPutIfAbsentHasExactlyOneWinner(StoreTarget target) throws Exception {
    int threads = 12;
    ObjectStore store = open(target);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      for (int round = 0; round < 15; round++) {
        String key = "race/" + round;
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Boolean>> results = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          byte[] content = bytes("writer-" + t);
          results.add(pool.submit(() -> {
            go.await();
            return join(store.putIfAbsent(key, content));
          }));
        }
        go.countDown();
        int winners = 0;
        int winner = -1;
        for (int t = 0; t < threads; t++) {
          if (results.get(t).get()) {
            winners++;
            winner = t;
          }
        }
        assertEquals(1, winners, "round " + round + ": writers that got true");
        assertArrayEquals(bytes("writer-" + winner), join(store.get(key)),
            "round " + round + ": the object holds the winner's content");
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreTarget.class)
  void putIfVersionReplacesOnlyTheVersionItWasGiven(StoreTarget target) {
    ObjectStore store = open(target);
    assertEquals(Optional.empty(), join(store.getVersioned("lease")));
    assertEquals(Optional.empty(), join(store.putIfVersion("lease", bytes("x"), "\"abc\"")),
        "a missing object has no version to match");
    assertEquals(Optional.empty(), join(store.getVersioned("lease")));

    assertTrue(join(store.putIfAbsent("lease", bytes("epoch 1"))));
    VersionedObject first = join(store.getVersioned("lease")).orElseThrow();
    assertArrayEquals(bytes("epoch 1"), first.data());
    String second = join(store.putIfVersion("lease", bytes("epoch 2"), first.versionTag()))
        .orElseThrow(() -> new AssertionError("the current version did not match"));
    VersionedObject now = join(store.getVersioned("lease")).orElseThrow();
    assertArrayEquals(bytes("epoch 2"), now.data());
    assertEquals(second, now.versionTag(), "the tag a write returns is the one a read sees");
    assertFalse(second.equals(first.versionTag()));

    // A writer holding the old version loses, and changes nothing.
    assertEquals(Optional.empty(), join(store.putIfVersion("lease", bytes("stale writer"),
        first.versionTag())));
    assertArrayEquals(bytes("epoch 2"), join(store.get("lease")));
    // An unconditional put makes every earlier version stale.
    join(store.put("lease", bytes("overwritten")));
    assertEquals(Optional.empty(), join(store.putIfVersion("lease", bytes("epoch 3"), second)));
    assertArrayEquals(bytes("overwritten"), join(store.get("lease")));
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreTarget.class)
  void racingPutIfVersionFromOneVersionHasExactlyOneWinner(StoreTarget target)
      throws Exception {
    // Seen here: 4 of 8 racing writers won. CoordinatorLease confirms what it wrote by reading
    // it back, which LeaseAgainstS3Test checks on every target, S3Proxy included.
    assumeFalse(target == StoreTarget.S3PROXY, "S3Proxy 4.1.0 checks If-Match and then "
        + "writes, not atomically, so racing compare-and-swap writes can all win there (AWS S3 "
        + "and the local directory are atomic)");
    int threads = 8;
    ObjectStore store = open(target);
    join(store.put("cas", bytes("round -1")));
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      for (int round = 0; round < 10; round++) {
        String tag = join(store.getVersioned("cas")).orElseThrow().versionTag();
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Optional<String>>> results = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          byte[] content = bytes("round " + round + " writer " + t);
          results.add(pool.submit(() -> {
            go.await();
            return join(store.putIfVersion("cas", content, tag));
          }));
        }
        go.countDown();
        int winners = 0;
        int winner = -1;
        for (int t = 0; t < threads; t++) {
          if (results.get(t).get().isPresent()) {
            winners++;
            winner = t;
          }
        }
        assertEquals(1, winners, "round " + round + ": writers that won");
        assertArrayEquals(bytes("round " + round + " writer " + winner),
            join(store.get("cas")), "round " + round + ": the object holds the winner's");
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreTarget.class)
  void headReportsSizeOrAbsence(StoreTarget target) {
    ObjectStore store = open(target);
    assertEquals(Optional.empty(), join(store.head("nothing/here")));
    join(store.put("dir/present", random(5, 321)));
    ObjectInfo info = join(store.head("dir/present")).orElseThrow();
    assertEquals("dir/present", info.key());
    assertEquals(321, info.size());
    assertNotNull(info.lastModified());
    assertEquals(Optional.empty(), join(store.head("dir/presen")));
    // "dir" is only a prefix of an object (a directory to a file system), not an object.
    assertEquals(Optional.empty(), join(store.head("dir")));
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreTarget.class)
  void listReturnsOnlyThePrefixSortedWithSizes(StoreTarget target) {
    ObjectStore store = open(target);
    // '-' sorts before '/', so "p-x" comes before "p/..." in byte order. (No key is also a
    // prefix directory of others: neither a file system nor S3Proxy can store that.)
    String[] keys = {"p/b/d", "pz", "q/a", "p/a", "p-x", "p/b/c"};
    for (int i = 0; i < keys.length; i++) {
      join(store.put(keys[i], new byte[10 + i]));
    }
    assertEquals(List.of("p/a:13", "p/b/c:15", "p/b/d:10"), describe(join(store.list("p/"))));
    assertEquals(List.of("p/b/c:15", "p/b/d:10"), describe(join(store.list("p/b"))));
    assertEquals(List.of("p-x:14", "p/a:13", "p/b/c:15", "p/b/d:10", "pz:11"),
        describe(join(store.list("p"))));
    assertEquals(List.of("p-x:14", "p/a:13", "p/b/c:15", "p/b/d:10", "pz:11", "q/a:12"),
        describe(join(store.list(""))));
    assertEquals(List.of(), join(store.list("nothing/")));
    assertEquals(List.of(), join(store.list("p/c")));
  }

  private static List<String> describe(List<ObjectInfo> infos) {
    return infos.stream().map(i -> i.key() + ":" + i.size()).toList();
  }

  /** S3 lists and deletes at most 1,000 keys per request: both must page. */
  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreTarget.class)
  void listAndDeleteWorkPastAThousandKeys(StoreTarget target) {
    ObjectStore store = open(target);
    List<String> keys = putMany(store, "many/", 1100);
    join(store.put("many-not/x", bytes("x")));
    join(store.put("keep/me", bytes("kept")));
    List<ObjectInfo> listed = join(store.list("many/"));
    assertEquals(keys, listed.stream().map(ObjectInfo::key).toList());
    for (ObjectInfo info : listed) {
      int i = Integer.parseInt(info.key().substring("many/k".length()));
      assertEquals(("v" + i).length(), info.size(), info.key());
    }

    List<String> toDelete = new ArrayList<>(keys);
    toDelete.add(500, "many/never-written");
    toDelete.add("elsewhere/missing");
    join(store.delete(toDelete));
    assertEquals(List.of(), join(store.list("many/")));
    assertEquals(List.of("keep/me", "many-not/x"),
        join(store.list("")).stream().map(ObjectInfo::key).toList());

    join(store.delete(List.of("many/k00001", "keep/also-missing")));
    join(store.delete(List.of()));
    assertArrayEquals(bytes("kept"), join(store.get("keep/me")));
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreTarget.class)
  void missingObjectFailsWithObjectNotFoundNamingTheKey(StoreTarget target) {
    ObjectStore store = open(target);
    join(store.put("present", bytes("x")));
    join(store.put("sst/000041.sst", bytes("x")));
    for (String key : List.of("sst/000042.sst", "sst")) {
      for (CompletableFuture<?> read : List.of(store.get(key), store.getRange(key, 0, 1))) {
        ObjectNotFoundException e = failure(ObjectNotFoundException.class, read);
        assertEquals(key, e.key());
        assertTrue(e.getMessage().contains(key), e.getMessage());
      }
    }
    join(store.delete(List.of("present")));
    assertEquals("present", failure(ObjectNotFoundException.class, store.get("present")).key());
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreTarget.class)
  void largeObjectRoundTripsWithARangedReadInTheMiddle(StoreTarget target) {
    ObjectStore store = open(target);
    int size = 20 << 20;
    byte[] data = random(6, size);
    join(store.put("large/object", data));
    assertEquals(size, join(store.head("large/object")).orElseThrow().size());
    int offset = (10 << 20) - 12_345;
    int length = (1 << 20) + 7;
    assertArrayEquals(Arrays.copyOfRange(data, offset, offset + length),
        join(store.getRange("large/object", offset, length)));
    assertArrayEquals(data, join(store.get("large/object")));
  }

  /** A bucket shared by two jobs through prefixes: each sees only its keys, relative. */
  @ParameterizedTest(name = "{0}")
  @EnumSource(value = StoreTarget.class, names = {"S3PROXY", "LOCALSTACK"})
  void s3PrefixesIsolateStoresSharingABucket(StoreTarget target) {
    String bucket = targets.freshBucket(target);
    S3Config base = targets.config(target, targets.server(target).endpoint(), bucket);
    S3ObjectStore a = targets.open(base.withPrefix("job-a"));
    S3ObjectStore b = targets.open(base.withPrefix("/job-b/"));
    join(a.put("sst/1", bytes("from a")));
    join(b.put("sst/1", bytes("from b")));
    join(b.put("sst/2", bytes("b2")));
    assertArrayEquals(bytes("from a"), join(a.get("sst/1")));
    assertArrayEquals(bytes("from b"), join(b.get("sst/1")));
    assertEquals(List.of("sst/1:6"), describe(join(a.list(""))));
    assertEquals(List.of("sst/1:6", "sst/2:2"), describe(join(b.list("sst/"))));
    assertEquals(Optional.empty(), join(a.head("sst/2")));
    join(a.delete(List.of("sst/1", "sst/2")));
    assertArrayEquals(bytes("b2"), join(b.get("sst/2")));
    assertTrue(a.location().contains("s3://" + bucket + "/job-a/"), a.location());
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = StoreTarget.class, names = {"S3PROXY", "LOCALSTACK"})
  void missingBucketFailsNamingTheBucketAndIsNotRetried(StoreTarget target) {
    S3ObjectStore store = targets.open(
        targets.config(target, targets.server(target).endpoint(), "no-such-bucket-here"));
    for (CompletableFuture<?> op : List.of(store.get("k"), store.put("k", bytes("x")),
        store.list(""), store.checkAccess())) {
      BucketNotFoundException e = failure(BucketNotFoundException.class, op);
      assertTrue(e.getMessage().contains("no-such-bucket-here"), e.getMessage());
      assertFalse(e.getMessage().contains("attempts"), "was retried: " + e.getMessage());
    }
  }
}
