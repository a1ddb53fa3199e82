package io.stratus.runtime.execution;

import io.stratus.store.lsm.StoreResources;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;

/**
 * What jobs on this JVM share: the Vert.x instance whose event loops run the tasks, and the
 * state store's object store, cache and threads.
 *
 * @param vertx the event loops
 * @param store the object store, block cache and store threads
 */
public record RuntimeResources(Vertx vertx, StoreResources store) {

  /**
   * A new event-loop context for one task: the task's code never races with itself, and tasks
   * spread over the event loops. ({@code getOrCreateContext} would return the caller's context
   * when called on an event loop, putting every task a worker deploys on one loop.)
   */
  public Context newTaskContext() {
    return ((VertxInternal) vertx).createEventLoopContext();
  }
}
