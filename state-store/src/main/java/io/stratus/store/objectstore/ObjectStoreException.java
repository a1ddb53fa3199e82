package io.stratus.store.objectstore;

/**
 * A failed object-store operation. The message names the operation, the object or bucket and the
 * cause in words a user can act on; subclasses mark the causes callers treat differently.
 */
public class ObjectStoreException extends RuntimeException {

  public ObjectStoreException(String message) {
    super(message);
  }

  public ObjectStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
