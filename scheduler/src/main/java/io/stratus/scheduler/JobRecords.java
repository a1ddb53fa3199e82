package io.stratus.scheduler;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stratus.store.objectstore.ObjectInfo;
import io.stratus.store.objectstore.ObjectStore;
import io.stratus.store.objectstore.VersionedObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The jobs a coordinator runs, as records in the bucket ({@code jobs/<job>/_job.json}), so that
 * the next leader knows what to recover after a coordinator dies: each job's name, parameters,
 * parallelism, the restore point it was submitted with, its last attempt (attempt numbers only
 * grow, since workers remember canceled attempts) and whether it still runs.
 *
 * <p>Every write is a compare-and-swap from the version this coordinator wrote last, carrying
 * its leadership epoch: once a new leader has rewritten a record (it does so before it
 * recovers the job), a deposed coordinator's next write to it fails, and with it the deploy
 * of a new attempt. The protocol is in {@code docs/cluster.md}.
 */
final class JobRecords {

  private static final Logger LOG = LoggerFactory.getLogger(JobRecords.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int FORMAT = 1;

  /**
   * One job's record.
   *
   * @param format      {@value #FORMAT}
   * @param job         the job's name
   * @param parameters  what it was built from
   * @param parallelism parallelism per keyed operator uid, as of the last deploy
   * @param restoreFrom the checkpoint or savepoint it was submitted with, or null
   * @param attempt     the last attempt deployed
   * @param running     false once it finished, failed or was canceled
   * @param epoch       the leadership epoch of the coordinator that wrote it
   * @param updatedAt   when, epoch milliseconds
   */
  record JobRecord(@JsonProperty("format") int format, @JsonProperty("job") String job,
      @JsonProperty("parameters") Map<String, String> parameters,
      @JsonProperty("parallelism") Map<String, Integer> parallelism,
      @JsonProperty("restoreFrom") String restoreFrom, @JsonProperty("attempt") int attempt,
      @JsonProperty("running") boolean running, @JsonProperty("epoch") long epoch,
      @JsonProperty("updatedAt") long updatedAt) {

    JobRecord with(int nextAttempt, Map<String, Integer> nextParallelism, boolean stillRunning,
        long writerEpoch) {
      return new JobRecord(FORMAT, job, parameters, Map.copyOf(nextParallelism), restoreFrom,
          nextAttempt, stillRunning, writerEpoch, System.currentTimeMillis());
    }
  }

  /** Thrown when a record was rewritten by a coordinator of a later epoch. */
  static final class FencedException extends IllegalStateException {
    FencedException(String message) {
      super(message);
    }
  }

  private final ObjectStore objects;
  private final long epoch;
  /** The version tag this coordinator wrote last, per job. */
  private final Map<String, String> tags = new ConcurrentHashMap<>();

  JobRecords(ObjectStore objects, long epoch) {
    this.objects = objects;
    this.epoch = epoch;
  }

  static String key(String job) {
    return "jobs/" + CheckpointStorage.safe(job) + "/_job.json";
  }

  /** A new record for a job submitted now (replacing an ended run's). */
  static JobRecord submitted(String job, Map<String, String> parameters,
      Map<String, Integer> parallelism, String restoreFrom, int attempt, long epoch) {
    return new JobRecord(FORMAT, job, Map.copyOf(parameters), Map.copyOf(parallelism),
        restoreFrom, attempt, true, epoch, System.currentTimeMillis());
  }

  /**
   * Writes the job's record as {@code next} makes it from the current one (null if there is
   * none), unless a coordinator of a later epoch wrote it (then fails with
   * {@link FencedException}); completes with what it wrote.
   */
  CompletableFuture<JobRecord> take(String job, Function<JobRecord, JobRecord> next) {
    return objects.getVersioned(key(job)).thenCompose(current -> {
      if (current.isEmpty()) {
        JobRecord record = next.apply(null);
        return objects.putIfAbsent(key(job), bytes(record)).thenCompose(created -> {
          if (!created) {
            return take(job, next);
          }
          return objects.getVersioned(key(job)).thenApply(v -> {
            v.ifPresent(o -> tags.put(job, o.versionTag()));
            return record;
          });
        });
      }
      JobRecord previous = checkEpoch(job, current.get());
      JobRecord record = next.apply(previous);
      return swap(record, current.get().versionTag()).thenApply(v -> record);
    });
  }

  /** Replaces the job's record, from the version this coordinator wrote last. */
  CompletableFuture<Void> update(JobRecord record) {
    String expected = tags.get(record.job());
    if (expected == null) {
      return take(record.job(), previous -> record).thenApply(r -> null);
    }
    return swap(record, expected);
  }

  private CompletableFuture<Void> swap(JobRecord record, String expected) {
    return objects.putIfVersion(key(record.job()), bytes(record), expected)
        .thenCompose(tag -> {
          if (tag.isPresent()) {
            tags.put(record.job(), tag.get());
            return CompletableFuture.completedFuture(null);
          }
          return objects.getVersioned(key(record.job())).thenCompose(now -> {
            if (now.isEmpty()) {
              return take(record.job(), previous -> record).<Void>thenApply(r -> null);
            }
            checkEpoch(record.job(), now.get());
            // Same epoch: our own write whose answer was lost, or an ended run's record.
            return swap(record, now.get().versionTag());
          });
        });
  }

  private JobRecord checkEpoch(String job, VersionedObject current) {
    JobRecord now;
    try {
      now = parse(current.data());
    } catch (IllegalArgumentException e) {
      LOG.warn("Replacing the unreadable record of job {}: {}", job, e.getMessage());
      return null;
    }
    if (now.epoch() > epoch) {
      throw new FencedException("the record of job '" + job + "' was taken over by the "
          + "coordinator of epoch " + now.epoch() + " (this one has epoch " + epoch + ")");
    }
    return now;
  }

  /** The records of every job under the prefix. */
  CompletableFuture<List<JobRecord>> all() {
    return objects.list("jobs/").thenCompose(infos -> {
      List<CompletableFuture<Optional<JobRecord>>> reads = new ArrayList<>();
      for (ObjectInfo o : infos) {
        String[] parts = o.key().split("/");
        if (parts.length == 3 && parts[2].equals("_job.json")) {
          reads.add(objects.getVersioned(o.key()).thenApply(v -> v.flatMap(x -> {
            try {
              return Optional.of(parse(x.data()));
            } catch (RuntimeException e) {
              LOG.warn("Ignoring {}: {}", o.key(), e.getMessage());
              return Optional.empty();
            }
          })));
        }
      }
      return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenApply(v ->
          reads.stream().map(CompletableFuture::join).flatMap(Optional::stream).toList());
    });
  }

  private static byte[] bytes(JobRecord record) {
    try {
      return JSON.writeValueAsBytes(record);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static JobRecord parse(byte[] data) {
    try {
      JobRecord r = JSON.readValue(data, JobRecord.class);
      if (r.format() != FORMAT) {
        throw new IllegalArgumentException("job record format " + r.format() + " is not "
            + FORMAT);
      }
      return r;
    } catch (IOException e) {
      throw new IllegalArgumentException("not a job record: " + e.getMessage(), e);
    }
  }
}
