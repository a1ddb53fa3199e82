package io.stratus.store.objectstore;

/** The object does not exist (S3 {@code NoSuchKey}, a missing file). */
public class ObjectNotFoundException extends ObjectStoreException {

  private final String key;

  public ObjectNotFoundException(String location, String key) {
    super("object " + key + " not found in " + location);
    this.key = key;
  }

  /** The missing object's key. */
  public String key() {
    return key;
  }
}
