package io.stratus.store.objectstore;

/** The bucket (or root directory) does not exist. */
public class BucketNotFoundException extends ObjectStoreException {

  public BucketNotFoundException(String message) {
    super(message);
  }
}
