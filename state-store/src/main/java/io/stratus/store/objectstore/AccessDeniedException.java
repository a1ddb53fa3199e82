package io.stratus.store.objectstore;

/** The store refused the credentials or the operation (S3 403). */
public class AccessDeniedException extends ObjectStoreException {

  public AccessDeniedException(String message, Throwable cause) {
    super(message, cause);
  }
}
