package io.stratus.runtime.sink;

import io.stratus.store.objectstore.ObjectInfo;
import io.stratus.store.objectstore.ObjectNotFoundException;
import io.stratus.store.objectstore.ObjectStore;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * An exactly-once sink of text lines in the object store (two-phase commit). Each task buffers
 * its lines; at a checkpoint barrier it writes them to a hidden staging object
 * ({@code <dir>/.pending/...}); when the checkpoint completes the coordinator commits: the staged
 * object is copied to its visible name ({@code <dir>/part-...}) and removed. Output of a
 * checkpoint that never completes is never visible, and is replayed after recovery, so readers
 * of {@code part-} objects never see a record twice.
 *
 * @param <T> the records
 */
public final class TransactionalFileSink<T> implements Sink<T> {

  private static final String PENDING = ".pending/";

  private final ObjectStore objects;
  private final String directory;
  private final Function<T, String> format;

  /**
   * @param objects   where output goes
   * @param directory key prefix of the output, without trailing slash
   * @param format    one line per record (no newline)
   */
  public TransactionalFileSink(ObjectStore objects, String directory, Function<T, String> format) {
    this.objects = objects;
    this.directory = directory;
    this.format = format;
  }

  @Override
  public SinkWriter<T> createWriter(int subtask, int parallelism) {
    String writerId = UUID.randomUUID().toString().substring(0, 8);
    return new SinkWriter<>() {
      private final StringBuilder buffer = new StringBuilder();

      @Override
      public void write(T record) {
        buffer.append(format.apply(record)).append('\n');
      }

      @Override
      public CompletableFuture<List<String>> prepareCommit(long checkpointId) {
        if (buffer.length() == 0) {
          return CompletableFuture.completedFuture(List.of());
        }
        String id = checkpointId == Long.MAX_VALUE ? "final" : String.format("%012d",
            checkpointId);
        String key = directory + "/" + PENDING + "part-" + String.format("%05d", subtask) + "-"
            + id + "-" + writerId;
        byte[] bytes = buffer.toString().getBytes(StandardCharsets.UTF_8);
        buffer.setLength(0);
        return objects.put(key, bytes).thenApply(v -> List.of(key));
      }
    };
  }

  @Override
  public CompletableFuture<Void> commit(List<String> committables) {
    List<CompletableFuture<Void>> all = new ArrayList<>();
    for (String pending : committables) {
      String visible = pending.replace(PENDING, "");
      all.add(objects.get(pending)
          .thenCompose(bytes -> objects.put(visible, bytes))
          .thenCompose(v -> objects.delete(List.of(pending)))
          .exceptionallyCompose(e -> {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            if (!(cause instanceof ObjectNotFoundException)) {
              return CompletableFuture.failedFuture(cause);
            }
            // Committed before (the pending object is gone): fine if the visible one exists.
            return objects.head(visible).thenAccept(info -> {
              if (info.isEmpty()) {
                throw new IllegalStateException("staged output " + pending + " is gone and "
                    + visible + " does not exist: output lost");
              }
            });
          }));
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
  }

  @Override
  public CompletableFuture<Integer> abortStaged(Instant before, Set<String> keep) {
    return objects.list(directory + "/" + PENDING).thenCompose(staged -> {
      List<String> aborted = staged.stream()
          .filter(o -> o.lastModified().isBefore(before) && !keep.contains(o.key()))
          .map(ObjectInfo::key).toList();
      return aborted.isEmpty() ? CompletableFuture.completedFuture(0)
          : objects.delete(aborted).thenApply(v -> aborted.size());
    });
  }

  /** Every committed line, in object-name order (for tests and readers). */
  public List<String> readCommitted() {
    List<String> lines = new ArrayList<>();
    for (ObjectInfo o : objects.list(directory + "/part-").join()) {
      String text = new String(objects.get(o.key()).join(), StandardCharsets.UTF_8);
      for (String line : text.split("\n")) {
        if (!line.isEmpty()) {
          lines.add(line);
        }
      }
    }
    return lines;
  }
}
