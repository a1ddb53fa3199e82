package io.stratus.scheduler;

/** A job name that this binary's {@link JobCatalog} does not know. */
public final class UnknownJobException extends IllegalArgumentException {

  public UnknownJobException(String message) {
    super(message);
  }
}
