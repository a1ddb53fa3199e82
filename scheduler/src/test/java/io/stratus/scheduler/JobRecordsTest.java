package io.stratus.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.ObjectStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobRecordsTest {

  @TempDir
  Path dir;

  private ObjectStore objects;

  @BeforeEach
  void setUp() {
    objects = new LocalDirectoryObjectStore(dir.resolve("bucket"));
  }

  private static <T> T join(CompletableFuture<T> f) throws Exception {
    return f.get(10, TimeUnit.SECONDS);
  }

  private JobRecords.JobRecord stored(String job) {
    return JobRecords.parse(objects.get(JobRecords.key(job)).join());
  }

  /** The {@link JobRecords.FencedException} {@code f} fails with. */
  private static JobRecords.FencedException fenced(CompletableFuture<?> f) {
    CompletionException e = assertThrows(CompletionException.class, f::join);
    return assertInstanceOf(JobRecords.FencedException.class, e.getCause(),
        String.valueOf(e.getCause()));
  }

  private static JobRecords.JobRecord submitted(String job, long epoch) {
    return JobRecords.submitted(job, Map.of("events", "100"), Map.of("totals", 2), "pause", 1,
        epoch);
  }

  @Test
  void takeCreatesARecordWhenThereIsNone() throws Exception {
    JobRecords records = new JobRecords(objects, 3);
    List<JobRecords.JobRecord> seen = new ArrayList<>();
    seen.add(new JobRecords.JobRecord(0, "marker", null, null, null, 0, false, 0, 0));
    long before = System.currentTimeMillis();
    JobRecords.JobRecord written = join(records.take("payments", previous -> {
      seen.set(0, previous);
      return submitted("payments", 3);
    }));
    assertNull(seen.get(0), "a missing record is passed as null");

    JobRecords.JobRecord read = stored("payments");
    assertEquals(written, read);
    assertEquals(1, read.format());
    assertEquals("payments", read.job());
    assertEquals(Map.of("events", "100"), read.parameters());
    assertEquals(Map.of("totals", 2), read.parallelism());
    assertEquals("pause", read.restoreFrom());
    assertEquals(1, read.attempt());
    assertTrue(read.running());
    assertEquals(3, read.epoch());
    assertTrue(read.updatedAt() >= before && read.updatedAt() <= System.currentTimeMillis(),
        String.valueOf(read.updatedAt()));
    assertEquals("jobs/payments/_job.json", JobRecords.key("payments"));
    assertTrue(objects.head("jobs/payments/_job.json").join().isPresent());
  }

  @Test
  void updateAfterTakeChangesTheAttempt() throws Exception {
    JobRecords records = new JobRecords(objects, 1);
    JobRecords.JobRecord first = join(records.take("payments", p -> submitted("payments", 1)));
    join(records.update(first.with(2, Map.of("totals", 4), true, 1)));
    JobRecords.JobRecord second = stored("payments");
    assertEquals(2, second.attempt());
    assertEquals(Map.of("totals", 4), second.parallelism());
    assertTrue(second.running());
    assertEquals(Map.of("events", "100"), second.parameters());
    assertEquals("pause", second.restoreFrom());

    join(records.update(second.with(2, second.parallelism(), false, 1)));
    assertFalse(stored("payments").running());
    assertEquals(2, stored("payments").attempt());
  }

  @Test
  void updateWithoutAPreviousTakeWritesTheRecord() throws Exception {
    JobRecords records = new JobRecords(objects, 1);
    join(records.update(submitted("fresh", 1)));
    assertEquals(1, stored("fresh").attempt());
    join(records.update(stored("fresh").with(5, Map.of(), true, 1)));
    assertEquals(5, stored("fresh").attempt());
  }

  @Test
  void aLaterEpochTakesTheRecordAndFencesTheEarlierOne() throws Exception {
    JobRecords old = new JobRecords(objects, 1);
    JobRecords.JobRecord oldRecord = join(old.take("payments", p -> submitted("payments", 1)));

    JobRecords next = new JobRecords(objects, 2);
    List<JobRecords.JobRecord> previous = new ArrayList<>();
    JobRecords.JobRecord taken = join(next.take("payments", p -> {
      previous.add(p);
      return p.with(p.attempt(), p.parallelism(), true, 2);
    }));
    assertEquals(List.of(oldRecord), previous, "the lower epoch's record is handed over");
    assertEquals(2, taken.epoch());
    assertEquals(2, stored("payments").epoch());
    assertEquals(Map.of("events", "100"), stored("payments").parameters());

    JobRecords.FencedException e = fenced(old.update(oldRecord.with(2, Map.of("totals", 2),
        true, 1)));
    assertEquals("the record of job 'payments' was taken over by the coordinator of epoch 2 "
        + "(this one has epoch 1)", e.getMessage());
    e = fenced(old.take("payments", p -> p.with(9, p.parallelism(), false, 1)));
    assertEquals("the record of job 'payments' was taken over by the coordinator of epoch 2 "
        + "(this one has epoch 1)", e.getMessage());
    // A fresh instance of the old epoch is fenced too.
    fenced(new JobRecords(objects, 1).take("payments", p -> p));
    fenced(new JobRecords(objects, 1).update(oldRecord));

    JobRecords.JobRecord now = stored("payments");
    assertEquals(2, now.epoch());
    assertEquals(1, now.attempt());
    assertTrue(now.running());

    // The new leader goes on writing.
    join(next.update(now.with(2, now.parallelism(), true, 2)));
    assertEquals(2, stored("payments").attempt());
  }

  @Test
  void aRecordWrittenByALowerEpochIsTakenByAHigherOne() throws Exception {
    join(new JobRecords(objects, 4).take("payments", p -> submitted("payments", 4)));
    // Epochs need not be consecutive.
    JobRecords.JobRecord taken = join(new JobRecords(objects, 9).take("payments",
        p -> p.with(p.attempt() + 1, p.parallelism(), p.running(), 9)));
    assertEquals(9, taken.epoch());
    assertEquals(2, stored("payments").attempt());
    assertEquals(9, stored("payments").epoch());
    // The same epoch may take it again (a coordinator rewriting its own record).
    join(new JobRecords(objects, 9).take("payments",
        p -> p.with(p.attempt(), p.parallelism(), false, 9)));
    assertFalse(stored("payments").running());
  }

  @Test
  void allReturnsEveryJobsRecordAndSkipsUnreadableOnes() throws Exception {
    JobRecords records = new JobRecords(objects, 1);
    for (String job : List.of("a", "b", "c")) {
      join(records.take(job, p -> submitted(job, 1)));
    }
    objects.put("jobs/x/_job.json", "not json {".getBytes(StandardCharsets.UTF_8)).join();
    objects.put("jobs/y/_job.json", "{\"format\": 2, \"job\": \"y\"}"
        .getBytes(StandardCharsets.UTF_8)).join();
    // Not job records: other files under jobs/.
    objects.put("jobs/a/checkpoints/000000000001/_metadata", new byte[] {1}).join();
    objects.put("jobs/_job.json", new byte[] {1}).join();

    List<JobRecords.JobRecord> all = join(records.all());
    assertEquals(List.of("a", "b", "c"), all.stream().map(JobRecords.JobRecord::job).sorted()
        .toList());
    for (JobRecords.JobRecord r : all) {
      assertEquals(stored(r.job()), r);
    }
    assertEquals(List.of(), join(new JobRecords(new LocalDirectoryObjectStore(
        dir.resolve("empty")), 1).all()));
  }

  @Test
  void anUnreadableRecordIsReplacedByTake() throws Exception {
    objects.put("jobs/x/_job.json", "garbage".getBytes(StandardCharsets.UTF_8)).join();
    List<JobRecords.JobRecord> previous = new ArrayList<>();
    previous.add(submitted("marker", 0));
    join(new JobRecords(objects, 1).take("x", p -> {
      previous.set(0, p);
      return submitted("x", 1);
    }));
    assertNull(previous.get(0));
    assertEquals("x", stored("x").job());
  }

  @Test
  void parseRefusesWhatIsNotARecordOfThisFormat() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> JobRecords.parse("nope".getBytes(StandardCharsets.UTF_8)));
    assertTrue(e.getMessage().startsWith("not a job record: "), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> JobRecords.parse(
        "{\"format\": 2, \"job\": \"y\"}".getBytes(StandardCharsets.UTF_8)));
    assertEquals("job record format 2 is not 1", e.getMessage());
  }

  @Test
  void keysAreSanitized() throws Exception {
    assertEquals("jobs/a_b/_job.json", JobRecords.key("a/b"));
    assertEquals("jobs/a_b_c_d/_job.json", JobRecords.key("a b:c*d"));
    assertEquals("jobs/ok-name_1.x/_job.json", JobRecords.key("ok-name_1.x"));
    assertEquals("jobs/" + CheckpointStorage.safe("../up") + "/_job.json",
        JobRecords.key("../up"));
    assertEquals("jobs/.._up/_job.json", JobRecords.key("../up"));

    JobRecords records = new JobRecords(objects, 1);
    join(records.take("a/b", p -> submitted("a/b", 1)));
    assertTrue(objects.head("jobs/a_b/_job.json").join().isPresent());
    assertFalse(objects.head("jobs/a/b/_job.json").join().isPresent());
    List<JobRecords.JobRecord> all = join(records.all());
    assertEquals(1, all.size());
    assertEquals("a/b", all.get(0).job());
    assertNotNull(stored("a/b"));
  }
}
