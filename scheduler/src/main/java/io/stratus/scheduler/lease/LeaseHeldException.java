package io.stratus.scheduler.lease;

/**
 * Another live process holds the lease on the bucket prefix: this one must not start, or the
 * two would delete each other's files.
 */
public final class LeaseHeldException extends RuntimeException {

  private final transient LeaseHolder holder;

  LeaseHeldException(String message, LeaseHolder holder) {
    super(message);
    this.holder = holder;
  }

  /** The process that holds the lease. */
  public LeaseHolder holder() {
    return holder;
  }
}
