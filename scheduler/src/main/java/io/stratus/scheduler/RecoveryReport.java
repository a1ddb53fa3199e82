package io.stratus.scheduler;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The last restart after a failure: what failed and how long the job took to process records
 * again. Times are epoch milliseconds of the coordinator's clock.
 *
 * @param cause         why the failed attempt ended (a task's error, a lost worker)
 * @param attempt       the attempt that took over
 * @param restoredFrom  the checkpoint it restored from, or -1 for none
 * @param detectedAt    when the coordinator learned of the failure
 * @param canceledAt    when the failed attempt's tasks had stopped (the dead worker's counted
 *                      once it was known lost) and any checkpoint being completed had ended
 * @param deployingAt   when the new attempt was recorded in the bucket and its tasks were sent
 *                      to the workers
 * @param runningAt     when the new attempt's tasks were all deployed and started
 * @param firstRecordAt when a keyed task of the new attempt processed its first record
 */
public record RecoveryReport(String cause, int attempt, long restoredFrom, long detectedAt,
    long canceledAt, long deployingAt, long runningAt, long firstRecordAt) {

  /** From the failure's detection to the first record processed again. */
  @JsonProperty("totalMillis")
  public long totalMillis() {
    return firstRecordAt - detectedAt;
  }
}
