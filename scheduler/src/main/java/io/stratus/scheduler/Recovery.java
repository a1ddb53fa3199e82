package io.stratus.scheduler;

/**
 * A failure of a job being recovered from, from its detection to the first record an attempt
 * processes after it: then it becomes the job's {@link RecoveryReport}. Failures of the
 * attempts that follow before that count as the same recovery. Confined to the job's context.
 */
final class Recovery {

  private final String cause;
  private final long detectedAt;
  private long canceledAt;
  private long deployingAt;
  private long runningAt;

  private Recovery(String cause, long detectedAt, long canceledAt) {
    this.cause = cause;
    this.detectedAt = detectedAt;
    this.canceledAt = canceledAt;
  }

  /** The coordinator learned of a failure now. */
  static Recovery detected(String cause) {
    return new Recovery(cause, System.currentTimeMillis(), 0);
  }

  /** A new leader resumes a job whose attempt is gone: nothing is left to cancel. */
  static Recovery resumed(String cause) {
    long now = System.currentTimeMillis();
    return new Recovery(cause, now, now);
  }

  String cause() {
    return cause;
  }

  /** The failed attempt's tasks have stopped. */
  void canceled() {
    canceledAt = System.currentTimeMillis();
  }

  /** The next attempt's record is written and its tasks are being deployed. */
  void deploying() {
    deployingAt = System.currentTimeMillis();
  }

  /** The next attempt's tasks are all deployed and started. */
  void running() {
    runningAt = System.currentTimeMillis();
  }

  /** A keyed task of {@code attempt}, restored from {@code restoredFrom}, processed a record. */
  RecoveryReport recovered(int attempt, long restoredFrom) {
    return new RecoveryReport(cause, attempt, restoredFrom, detectedAt,
        Math.max(detectedAt, canceledAt), Math.max(detectedAt, deployingAt), runningAt,
        System.currentTimeMillis());
  }
}
