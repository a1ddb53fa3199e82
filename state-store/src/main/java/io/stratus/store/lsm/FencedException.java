package io.stratus.store.lsm;

/**
 * Another writer already published this store's next version: two instances of the same store
 * are running. The loser must stop writing; its view of the state is stale.
 */
public class FencedException extends RuntimeException {

  public FencedException(String message) {
    super(message);
  }
}
