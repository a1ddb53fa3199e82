package io.stratus.store.objectstore;

import static io.stratus.store.objectstore.Await.failure;
import static io.stratus.store.objectstore.Await.join;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the local directory store adds to the contract: confinement, atomicity, temp files. */
class LocalDirectoryObjectStoreTest {

  @TempDir
  Path dir;

  private Path root;
  private LocalDirectoryObjectStore store;

  @BeforeEach
  void open() {
    root = dir.resolve("bucket");
    store = new LocalDirectoryObjectStore(root);
  }

  @AfterEach
  void close() {
    store.close();
  }

  @Test
  void keysThatEscapeTheRootAreRejectedByEveryOperation() throws IOException {
    Files.writeString(dir.resolve("outside"), "secret");
    String absolute = dir.resolve("outside").toAbsolutePath().toString();
    for (String key : List.of("../outside", "a/../../outside", absolute, "..", "a/..", "",
        "a\\b")) {
      List<CompletableFuture<?>> operations = List.of(store.get(key), store.getRange(key, 0, 1),
          store.put(key, new byte[] {1}), store.putIfAbsent(key, new byte[] {1}),
          store.head(key), store.delete(List.of(key)));
      for (CompletableFuture<?> operation : operations) {
        IllegalArgumentException e = failure(IllegalArgumentException.class, operation);
        assertTrue(e.getMessage().contains("'" + key + "'"), e.getMessage());
      }
    }
    assertEquals("secret", Files.readString(dir.resolve("outside")));
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(Set.of("bucket", "outside"),
          Set.copyOf(files.map(p -> p.getFileName().toString()).toList()));
    }
  }

  @Test
  void dotSegmentsThatStayInsideTheRootAreTheSameKey() {
    join(store.put("a/b", new byte[] {1}));
    assertArrayEquals(new byte[] {1}, join(store.get("a/./x/../b")));
  }

  /**
   * One writer replaces an object with two alternating contents of different lengths and bytes
   * while readers read it: a reader that saw a partly written file would get a prefix of one or
   * a mix of both.
   */
  @Test
  void readersNeverSeeAPartialObject() throws Exception {
    byte[] a = new byte[3 << 20];
    byte[] b = new byte[(2 << 20) + 123];
    Arrays.fill(a, (byte) 0xAA);
    Arrays.fill(b, (byte) 0x55);
    join(store.put("hot", a));
    AtomicBoolean done = new AtomicBoolean();
    ExecutorService readers = Executors.newFixedThreadPool(2);
    List<Future<Integer>> results = new ArrayList<>();
    try {
      for (int r = 0; r < 2; r++) {
        boolean ranged = r == 1;
        results.add(readers.submit(() -> {
          int reads = 0;
          while (!done.get() || reads < 10) {
            if (ranged) {
              byte[] got = join(store.getRange("hot", 1 << 20, 1 << 20));
              byte first = got[0];
              for (byte x : got) {
                if (x != first) {
                  throw new AssertionError("ranged read mixed two versions");
                }
              }
            } else {
              byte[] got = join(store.get("hot"));
              if (!Arrays.equals(got, a) && !Arrays.equals(got, b)) {
                throw new AssertionError("read " + got.length + " bytes that are neither version");
              }
            }
            reads++;
          }
          return reads;
        }));
      }
      for (int i = 0; i < 60; i++) {
        join(store.put("hot", i % 2 == 0 ? b : a));
      }
      done.set(true);
      for (Future<Integer> f : results) {
        assertTrue(readerResult(f) >= 10);
      }
    } finally {
      done.set(true);
      readers.shutdownNow();
    }
  }

  /** A background reader's count, or the assertion it failed with. */
  private static int readerResult(Future<Integer> reader) throws InterruptedException {
    try {
      return reader.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof AssertionError a) {
        throw a;
      }
      throw new AssertionError("reader failed", e.getCause());
    }
  }

  @Test
  void tempFilesNeverAppearInListingsAndDoNotOutliveTheirWrite() throws Exception {
    AtomicBoolean done = new AtomicBoolean();
    ExecutorService lister = Executors.newSingleThreadExecutor();
    Future<Integer> listings = lister.submit(() -> {
      int n = 0;
      while (!done.get() || n < 5) {
        for (ObjectInfo info : join(store.list(""))) {
          if (!info.key().startsWith("obj/")) {
            throw new AssertionError("listed " + info.key());
          }
        }
        n++;
      }
      return n;
    });
    try {
      byte[] data = new byte[64 << 10];
      List<CompletableFuture<?>> writes = new ArrayList<>();
      for (int i = 0; i < 300; i++) {
        writes.add(store.put("obj/" + (i % 50), data));
        // Half of these lose to an existing object and must discard their temp file.
        writes.add(store.putIfAbsent("obj/c" + (i % 150), data));
      }
      join(CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)));
    } finally {
      done.set(true);
      assertTrue(readerResult(listings) >= 5);
      lister.shutdownNow();
    }
    assertEquals(200, join(store.list("")).size());
    assertEquals(List.of(), tempFiles());
  }

  /**
   * Temp files come and go while a listing walks the directory tree; one that vanishes between
   * being seen and being examined must not fail the listing.
   */
  @Test
  void listingDuringWritesNeverFails() throws Exception {
    join(store.put("obj/existing", new byte[] {1}));
    AtomicBoolean done = new AtomicBoolean();
    ExecutorService lister = Executors.newSingleThreadExecutor();
    Future<Integer> listings = lister.submit(() -> {
      int n = 0;
      while (!done.get() || n < 5) {
        List<ObjectInfo> listed = join(store.list(""));
        if (listed.isEmpty() || !listed.get(0).key().equals("obj/existing")) {
          throw new AssertionError("listed " + listed);
        }
        n++;
      }
      return n;
    });
    try {
      // Every one of these loses, so each creates and deletes a temp file.
      for (int round = 0; round < 20 && !listings.isDone(); round++) {
        List<CompletableFuture<?>> writes = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
          writes.add(store.putIfAbsent("obj/existing", new byte[] {2}));
        }
        join(CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)));
      }
    } finally {
      done.set(true);
      assertTrue(readerResult(listings) >= 5);
      lister.shutdownNow();
    }
  }

  @Test
  void aFailedWriteFailsAndLeavesNoTempFileBehind() throws IOException {
    join(store.put("file", new byte[] {1}));
    // "file" is a file, so "file/child" cannot be created beneath it.
    failure(ObjectStoreException.class, store.put("file/child", new byte[] {2}));
    assertEquals(List.of(), tempFiles());
    // Not "false": no object exists under that key, it just cannot be created.
    failure(ObjectStoreException.class, store.putIfAbsent("file/child", new byte[] {2}));
    assertEquals(List.of(), tempFiles());
    assertArrayEquals(new byte[] {1}, join(store.get("file")));
  }

  private List<Path> tempFiles() throws IOException {
    try (Stream<Path> files = Files.list(root.resolve(".tmp"))) {
      return files.toList();
    }
  }

  @Test
  void listOfAnEmptyStoreIsEmptyAndHeadOfTheTempDirectoryFindsNothing() {
    assertEquals(List.of(), join(store.list("")));
    assertEquals(List.of(), join(store.list(".tmp")));
    assertFalse(join(store.head(".tmp")).isPresent());
  }

  @Test
  void fsyncingStoreRoundTrips() {
    try (LocalDirectoryObjectStore synced =
        new LocalDirectoryObjectStore(dir.resolve("synced"), true, 1)) {
      join(synced.put("k", new byte[] {4, 5}));
      assertTrue(join(synced.putIfAbsent("k2", new byte[] {6})));
      assertArrayEquals(new byte[] {4, 5}, join(synced.get("k")));
      assertArrayEquals(new byte[] {6}, join(synced.get("k2")));
    }
  }

  @Test
  void operationsAfterCloseFailNamingTheStore() {
    store.close();
    ObjectStoreException e = failure(ObjectStoreException.class, store.get("k"));
    assertTrue(e.getMessage().contains("closed") && e.getMessage().contains(root.toString()),
        e.getMessage());
  }
}
