package io.stratus.scheduler;

/**
 * A rescale that cannot start now: the job is not running, or another rescale is in progress.
 * Nothing changed.
 */
public final class RescaleConflictException extends IllegalStateException {

  public RescaleConflictException(String message) {
    super(message);
  }
}
