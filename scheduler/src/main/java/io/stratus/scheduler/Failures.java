package io.stratus.scheduler;

import io.stratus.store.objectstore.ObjectStoreException;

/** How the coordinator explains a failed future in its messages. */
final class Failures {

  /** The innermost cause of {@code e}. */
  static Throwable cause(Throwable e) {
    Throwable c = e;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c;
  }

  /**
   * The message that explains {@code e}: an object-store failure's own (it names the operation,
   * key and endpoint; its causes do not), else the root cause's.
   */
  static String message(Throwable e) {
    Throwable c = e;
    while (c.getCause() != null && c.getCause() != c && !(c instanceof ObjectStoreException)) {
      c = c.getCause();
    }
    return String.valueOf(c.getMessage() != null ? c.getMessage() : c);
  }

  private Failures() {}
}
