package io.stratus.store.objectstore;

import static io.stratus.store.objectstore.Await.failure;
import static io.stratus.store.objectstore.Await.join;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link ObjectStore#until} on a store that cannot abort a request (a local directory): every
 * kind of write is refused once the deadline has passed and leaves the objects as they were;
 * before it, writes go through; reads never depend on it; closing the view closes nothing.
 */
class DeadlineObjectStoreTest {

  @TempDir
  Path root;
  private LocalDirectoryObjectStore store;

  @BeforeEach
  void open() {
    store = new LocalDirectoryObjectStore(root);
    join(store.put("kept", "before".getBytes(UTF_8)));
  }

  @AfterEach
  void close() {
    store.close();
  }

  /** Each kind of write, on the object {@code kept} or a new one. */
  static Stream<Arguments> writes() {
    return Stream.of(
        Arguments.of("put", (Function<ObjectStore, CompletableFuture<?>>)
            s -> s.put("kept", "after".getBytes(UTF_8))),
        Arguments.of("putIfAbsent", (Function<ObjectStore, CompletableFuture<?>>)
            s -> s.putIfAbsent("new", "after".getBytes(UTF_8))),
        Arguments.of("putIfVersion", (Function<ObjectStore, CompletableFuture<?>>)
            s -> s.getVersioned("kept").thenCompose(v -> s.putIfVersion("kept",
                "after".getBytes(UTF_8), v.orElseThrow().versionTag()))),
        Arguments.of("delete", (Function<ObjectStore, CompletableFuture<?>>)
            s -> s.delete(List.of("kept"))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("writes")
  void aWritePastItsDeadlineIsNotMadeAndSaysWhy(String name,
      Function<ObjectStore, CompletableFuture<?>> write) {
    ObjectStore late = store.until(System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(250));
    ObjectStoreException e = failure(ObjectStoreException.class, write.apply(late));
    assertTrue(e.getMessage().contains("deadline passed"), e.getMessage());
    assertTrue(e.getMessage().contains(store.location()), e.getMessage());
    assertArrayEquals("before".getBytes(UTF_8), join(store.get("kept")), name);
    assertEquals(Optional.empty(), join(store.head("new")), name);
    // Reads of the view still work: only writes are bounded.
    assertArrayEquals("before".getBytes(UTF_8), join(late.get("kept")), name);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("writes")
  void aWriteBeforeItsDeadlineIsMade(String name,
      Function<ObjectStore, CompletableFuture<?>> write) {
    ObjectStore inTime = store.until(System.nanoTime() + TimeUnit.SECONDS.toNanos(60));
    join(write.apply(inTime));
    boolean changed = !join(store.head("kept")).isPresent()
        || !new String(join(store.get("kept")), UTF_8).equals("before")
        || join(store.head("new")).isPresent();
    assertTrue(changed, name + " changed nothing");
  }

  @Test
  void closingTheViewLeavesTheStoreOpen() {
    store.until(System.nanoTime()).close();
    join(store.put("kept", "after".getBytes(UTF_8)));
    assertArrayEquals("after".getBytes(UTF_8), join(store.get("kept")));
  }
}
