package io.stratus.runtime.execution;

import io.stratus.store.lsm.StoreResources;
import io.vertx.core.Vertx;

/**
 * What jobs on this JVM share: the Vert.x instance whose event loops run the tasks, and the
 * state store's object store, cache and threads.
 *
 * @param vertx the event loops
 * @param store the object store, block cache and store threads
 */
public record RuntimeResources(Vertx vertx, StoreResources store) {}
