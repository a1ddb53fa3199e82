package io.stratus.store.objectstore;

/** The endpoint does not answer: connection refused, DNS failure or timeouts after all retries. */
public class EndpointUnreachableException extends ObjectStoreException {

  public EndpointUnreachableException(String message, Throwable cause) {
    super(message, cause);
  }
}
