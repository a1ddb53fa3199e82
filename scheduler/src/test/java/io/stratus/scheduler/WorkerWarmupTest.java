package io.stratus.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The worker's warm-up runs the state path and leaves nothing behind. */
class WorkerWarmupTest {

  @TempDir
  Path dir;

  @Test
  void warmsUpWithoutWritingToTheBucketOrLeavingScratchFiles() throws Exception {
    long before = scratchFolders();
    try (LocalDirectoryObjectStore bucket = new LocalDirectoryObjectStore(dir.resolve("bucket"))) {
      String result = WorkerWarmup.run(bucket, "coordinator/lease.json");
      assertTrue(result.startsWith("warmed up in "), result);
      assertTrue(bucket.list("").join().isEmpty(), "the warm-up wrote to the bucket");
    }
    assertEquals(before, scratchFolders(), "a scratch folder was left behind");
  }

  private static long scratchFolders() throws Exception {
    try (Stream<Path> all = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      return all.filter(p -> p.getFileName().toString().startsWith("stratus-warmup")).count();
    }
  }
}
