package io.stratus.scheduler;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Waits for a running job to get somewhere, in tests. The limits only keep a stuck job from
 * hanging the build; they are liveness guards, not performance assertions. Public for
 * localstack-tests (the scheduler's test-jar).
 */
public final class JobProgress {

  private JobProgress() {}

  /** The id of the job's newest completed checkpoint or savepoint, 0 if none. */
  public static long newestCheckpoint(JobController job) throws Exception {
    List<JobStatus.CheckpointSummary> done = job.status().get(10, TimeUnit.SECONDS).checkpoints();
    return done.isEmpty() ? 0 : done.get(done.size() - 1).id();
  }

  /** Waits until a checkpoint newer than {@code after} has completed; fails if the job ends. */
  public static void awaitCheckpoint(JobController job, long after) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (newestCheckpoint(job) <= after) {
      assertTrue(System.nanoTime() < deadline, "no checkpoint after " + after + " in 60 s");
      assertFalse(job.result().isDone(), "the job ended: " + job.result().getNow(null));
      Thread.sleep(5);
    }
  }
}
