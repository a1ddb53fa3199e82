package io.stratus.scheduler;

/** Where a job is in its life. */
public enum JobState {
  SUBMITTED, RUNNING, RESTARTING, RESCALING, CANCELLING, CANCELED, FINISHED, FAILED;

  public boolean terminal() {
    return this == CANCELED || this == FINISHED || this == FAILED;
  }
}
