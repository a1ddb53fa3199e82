package io.stratus.runtime.execution;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The adaptive in-flight limit, driven by a clock the test moves: records complete at a
 * chosen rate, one in flight at a time or many.
 */
class DrainTimeLimitTest {

  private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

  /** Runs {@code records} records back to back, each taking {@code eachNanos}; returns now. */
  private static long serial(DrainTimeLimit limit, long now, int records, long eachNanos) {
    for (int i = 0; i < records; i++) {
      limit.busy(now);
      now += eachNanos;
      limit.completed(now, true);
    }
    return now;
  }

  /**
   * Keeps {@code inFlight} records busy and completes them at {@code perSecond} for
   * {@code millis}; returns now.
   */
  private static long steady(DrainTimeLimit limit, long now, double perSecond, long millis) {
    long gap = (long) (1e9 / perSecond);
    long end = now + millis * MS;
    limit.busy(now);
    while (now < end) {
      now += gap;
      limit.completed(now, false);
    }
    return now;
  }

  @Test
  void aFixedLimitNeverMoves() {
    DrainTimeLimit limit = DrainTimeLimit.fixed(1000);
    steady(limit, 0, 50, 5_000);
    assertEquals(1000, limit.current());
    assertEquals(1000, DrainTimeLimit.adaptive(1000, 0).current(), "a zero target is fixed");
  }

  @ParameterizedTest(name = "{0} records/s, target {1} ms -> {2}")
  @CsvSource({
      "400, 200, 80",      // an object store serving a few hundred reads a second
      "2000, 200, 400",
      "100, 200, 20",
      "50, 200, 16",       // never below the floor: enough reads in flight to find the latency
      "100000, 200, 1000", // fast state: the configured maximum
      "400, 1000, 400"})
  void theLimitIsWhatCompletesInTheTarget(double perSecond, long targetMillis, int expected) {
    DrainTimeLimit limit = DrainTimeLimit.adaptive(1000, targetMillis);
    assertEquals(DrainTimeLimit.FLOOR, limit.current(), "starts at the floor");
    steady(limit, 0, perSecond, 3_000);
    int got = limit.current();
    assertTrue(Math.abs(got - expected) <= Math.max(2, expected / 20),
        "expected about " + expected + ", got " + got);
  }

  /**
   * Records whose latency is the state's (each takes {@code latencyMillis} however many are in
   * flight, as with an object store far from saturation): the limit's records complete at
   * limit ÷ latency, for {@code millis}; returns now.
   */
  private static long latencyBound(DrainTimeLimit limit, long now, long latencyMillis,
      long millis) {
    long end = now + millis * MS;
    limit.busy(now);
    while (now < end) {
      long gap = latencyMillis * MS / limit.current();
      now += Math.max(1, gap);
      limit.completed(now, false);
    }
    return now;
  }

  /**
   * A new task (just restored onto a cold cache) admits the floor, not the maximum, and the
   * limit grows by target ÷ latency per window: at 10 ms per record it reaches the maximum in
   * well under a second, at 100 ms in a second; at 400 ms (above the target) it stays at the
   * floor, the limitation runtime.md states.
   */
  @ParameterizedTest(name = "{0} ms per record -> {1} within {2} ms")
  @CsvSource({"10, 1000, 500", "1, 1000, 300", "100, 1000, 1500", "400, 16, 3000"})
  void aNewLimitStartsAtTheFloorAndRisesWithTheThroughput(long latencyMillis, int expected,
      long withinMillis) {
    DrainTimeLimit limit = DrainTimeLimit.adaptive(1000, 200);
    assertEquals(DrainTimeLimit.FLOOR, limit.current());
    latencyBound(limit, 0, latencyMillis, withinMillis);
    assertEquals(expected, limit.current());
  }

  @Test
  void idleTimeDoesNotCountAsSlow() {
    DrainTimeLimit limit = DrainTimeLimit.adaptive(1000, 200);
    long now = 0;
    // Bursts of 100 records at 10,000/s with a second of nothing between them: the task is
    // fast while it has work, so its limit rises to the maximum and stays there.
    for (int burst = 0; burst < 10; burst++) {
      now = steady(limit, now, 10_000, 10);
      limit.completed(now, true);
      now += 1_000 * MS;
    }
    assertEquals(1000, limit.current());
  }

  @Test
  void aLowLimitRisesAgainWhenStateIsFastAgain() {
    DrainTimeLimit limit = DrainTimeLimit.adaptive(1000, 200);
    long now = steady(limit, 0, 100, 2_000);
    assertTrue(limit.current() < 30, "slow: " + limit.current());
    steady(limit, now, 50_000, 1_000);
    assertEquals(1000, limit.current());
  }

  @Test
  void oneRecordAtATimeMeasuresItsLatency() {
    DrainTimeLimit limit = DrainTimeLimit.adaptive(1000, 200);
    // 5 ms per record, never more than one in flight: 200 per second of busy time.
    serial(limit, 0, 2_000, 5 * MS);
    assertTrue(Math.abs(limit.current() - 40) <= 2, "got " + limit.current());
  }

  @Test
  void aMaximumBelowTheFloorIsKept() {
    DrainTimeLimit limit = DrainTimeLimit.adaptive(4, 200);
    steady(limit, 0, 10, 2_000);
    assertEquals(4, limit.current());
    assertThrows(IllegalArgumentException.class, () -> DrainTimeLimit.adaptive(0, 200));
  }
}
