package io.stratus.store.objectstore;

import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * Decides which requests of a {@link SimulatedNetworkObjectStore} fail, and how: returns the
 * exception to fail a request with, or {@code null} to let it through. Implementations must be
 * thread-safe.
 */
@FunctionalInterface
public interface FaultInjector {

  /** The operations a fault can target. */
  enum Operation { GET, PUT, PUT_IF_ABSENT, PUT_IF_VERSION, HEAD, LIST, DELETE }

  RuntimeException faultFor(Operation operation, String key);

  /** Never fails. */
  FaultInjector NONE = (operation, key) -> null;

  /** Fails requests that match {@code which} with an {@link ObjectStoreException}. */
  static FaultInjector failing(Predicate<String> which, Operation operation, String message) {
    return (op, key) -> op == operation && which.test(key)
        ? new ObjectStoreException(op + " " + key + " failed: " + message) : null;
  }

  /** Denies writes of keys matching {@code which}, as a bucket policy would. */
  static FaultInjector denyWrites(Predicate<String> which) {
    return (op, key) -> (op == Operation.PUT || op == Operation.PUT_IF_ABSENT
        || op == Operation.PUT_IF_VERSION) && which.test(key)
        ? new AccessDeniedException(op + " " + key + ": access denied (injected)", null) : null;
  }

  /** Fails each request with probability {@code p}, reproducibly for a given seed. */
  static FaultInjector random(double p, long seed) {
    Random random = new Random(seed);
    return (op, key) -> {
      synchronized (random) {
        return random.nextDouble() < p
            ? new ObjectStoreException(op + " " + key + " failed: injected fault") : null;
      }
    };
  }

  /** Fails every {@code n}-th request. */
  static FaultInjector everyNth(int n) {
    AtomicLong count = new AtomicLong();
    return (op, key) -> count.incrementAndGet() % n == 0
        ? new ObjectStoreException(op + " " + key + " failed: injected fault") : null;
  }
}
