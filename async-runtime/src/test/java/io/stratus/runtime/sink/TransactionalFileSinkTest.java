package io.stratus.runtime.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.ObjectInfo;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The exactly-once file sink's two phases and the end-of-job clean-up of output staged for
 * checkpoints that never completed.
 */
class TransactionalFileSinkTest {

  @TempDir
  Path dir;
  private LocalDirectoryObjectStore objects;
  private TransactionalFileSink<String> sink;

  @BeforeEach
  void open() {
    objects = new LocalDirectoryObjectStore(dir.resolve("bucket"));
    sink = new TransactionalFileSink<>(objects, "out/job", line -> line);
  }

  @AfterEach
  void close() {
    objects.close();
  }

  /** Stages {@code line} for {@code checkpoint} from a new writer (one per task attempt). */
  private String stage(String line, long checkpoint) throws Exception {
    SinkWriter<String> writer = sink.createWriter(0, 1);
    writer.write(line);
    List<String> staged = writer.prepareCommit(checkpoint).join();
    assertEquals(1, staged.size());
    return staged.get(0);
  }

  private List<String> stillStaged() {
    List<String> keys = new ArrayList<>();
    for (ObjectInfo o : objects.list("out/job/.pending/").join()) {
      keys.add(o.key());
    }
    return keys;
  }

  @Test
  void stagedOutputIsInvisibleUntilCommittedAndACommitIsIdempotent() throws Exception {
    String a = stage("a", 1);
    assertEquals(List.of(), sink.readCommitted());
    sink.commit(List.of(a)).join();
    sink.commit(List.of(a)).join();
    assertEquals(List.of("a"), sink.readCommitted());
    assertEquals(List.of(), stillStaged());
  }

  @Test
  void aCommitOfStagedOutputThatWasDeletedFailsNamingTheLoss() throws Exception {
    String a = stage("a", 1);
    sink.abortStaged(Instant.now().plusSeconds(1), Set.of()).join();
    CompletionException e = assertThrows(CompletionException.class,
        () -> sink.commit(List.of(a)).join());
    assertTrue(e.getCause().getMessage().contains("output lost"), e.toString());
  }

  @Test
  void abortingDeletesOnlyOutputNoCommitWillTakeAndThatWasStagedBeforeTheEnd() throws Exception {
    String committed = stage("committed", 1);
    sink.commit(List.of(committed)).join();
    String ofAKilledTask = stage("lost", 2);
    String ofTheLastCheckpoint = stage("kept", 3);
    Instant ended = Instant.now().plus(Duration.ofSeconds(1));

    int aborted = sink.abortStaged(ended, Set.of(ofTheLastCheckpoint)).join();

    assertEquals(1, aborted);
    assertEquals(List.of(ofTheLastCheckpoint), stillStaged());
    assertEquals(List.of("committed"), sink.readCommitted());
    // The kept output can still be committed (a restore from that checkpoint does so).
    sink.commit(List.of(ofTheLastCheckpoint)).join();
    assertTrue(sink.readCommitted().contains("kept"));
    assertTrue(stillStaged().isEmpty());
    assertTrue(ofAKilledTask.contains("/.pending/"), ofAKilledTask);
  }

  @Test
  void outputStagedAfterTheEndIsLeftAlone() throws Exception {
    Instant ended = Instant.now().minus(Duration.ofMinutes(1));
    String late = stage("late", 4);
    assertEquals(0, sink.abortStaged(ended, Set.of()).join());
    assertEquals(List.of(late), stillStaged());
  }
}
