package io.stratus.examples;

import java.util.concurrent.atomic.AtomicBoolean;
import sun.misc.Signal;

/**
 * Ctrl-C (SIGINT) and SIGTERM, turned into a request to stop gracefully: the first one asks the
 * running command to stop with a savepoint; a second one quits at once (the next run then
 * resumes from the last completed checkpoint). Signals, not a shutdown hook, because a hook
 * cannot be interrupted by a second Ctrl-C.
 */
final class StopSignal {

  private final AtomicBoolean requested = new AtomicBoolean();

  private StopSignal() {}

  /** Takes over SIGINT and SIGTERM for this process (stopping with a savepoint). */
  static StopSignal install() {
    return install("Stopping with a savepoint (press Ctrl-C again to quit at once)...");
  }

  /** Takes over SIGINT and SIGTERM; the first prints {@code message}. */
  static StopSignal install(String message) {
    StopSignal stop = new StopSignal();
    for (String name : new String[] {"INT", "TERM"}) {
      Signal.handle(new Signal(name), signal -> {
        if (stop.requested.getAndSet(true)) {
          System.err.println("\nQuitting now, without a savepoint: the next run resumes from "
              + "the last completed checkpoint.");
          Runtime.getRuntime().halt(130);
        }
        System.err.println("\n" + message);
      });
    }
    return stop;
  }

  boolean requested() {
    return requested.get();
  }
}
