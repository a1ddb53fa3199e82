package io.stratus.scheduler;

import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Deque;

/**
 * A job's source records, as its tasks' heartbeats report them, counted on across attempts (a
 * canceled attempt's tasks stop being reported), and its records per second over the last
 * five seconds. Confined to the job's context.
 */
final class JobThroughput {

  private static final int SAMPLES = 6;

  /** Source records of attempts that ended. */
  private long before;
  /** The most the running attempt's sources were seen to reach. */
  private long attempt;
  private final Deque<long[]> samples = new ArrayDeque<>();

  /** Source records so far, the running attempt's sources' latest reports included. */
  long total(AttemptPlan plan, Collection<Protocol.TaskReport> reports) {
    long attemptTotal = 0;
    for (Protocol.TaskReport r : reports) {
      if (plan.isSource(r.task())) {
        attemptTotal += r.records();
      }
    }
    attempt = Math.max(attempt, attemptTotal);
    return before + attempt;
  }

  /** A new attempt is deployed: what the one before processed counts from now on. */
  void attemptStarting(AttemptPlan previous, Collection<Protocol.TaskReport> reports) {
    before = total(previous, reports);
    attempt = 0;
  }

  /** Records the total now (each second). */
  void sample(long total) {
    samples.addLast(new long[] {System.currentTimeMillis(), total});
    while (samples.size() > SAMPLES) {
      samples.removeFirst();
    }
  }

  double perSecond() {
    if (samples.size() < 2) {
      return 0;
    }
    long[] first = samples.getFirst();
    long[] last = samples.getLast();
    return last[0] == first[0] ? 0 : (last[1] - first[1]) * 1000.0 / (last[0] - first[0]);
  }
}
