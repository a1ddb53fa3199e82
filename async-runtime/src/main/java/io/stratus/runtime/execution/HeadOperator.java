package io.stratus.runtime.execution;

import io.stratus.runtime.state.HotBlocks;
import io.stratus.runtime.state.StateHandle;
import java.util.concurrent.CompletableFuture;

/**
 * The first operator of a task that reads an inbox ({@link StreamTask}): a keyed operator with
 * its state, timers and asynchronous execution ({@link KeyedOperator}), or a chain of stateless
 * operators called in place ({@link ChainHead}). The task handles the inbox (alignment,
 * watermarks, the end of input) and asks its head for flow control, epochs and snapshots.
 * Called on the task's context only.
 */
interface HeadOperator {

  /** How a head fails its task when a record fails after {@link #process} returned. */
  interface Failure {
    void fail(Object record, Object key, Throwable error);
  }

  /** Prepares to take records (restores timers, opens functions). */
  CompletableFuture<Void> open(int subtask, int parallelism, Failure failure);

  /** Whether it can take another record now. */
  boolean hasCapacity();

  /** Completes when it can take another record. */
  CompletableFuture<Void> whenCapacity();

  /** Completes when its state accepts writes (a store stalled on flushes does not). */
  CompletableFuture<Void> whenWritable();

  /**
   * One record, decoded.
   *
   * @param key      the decoded key after a {@code keyBy}, else null
   * @param keyBytes its bytes, else null
   * @param keyGroup its key group, else -1
   */
  void process(Object value, long timestamp, Object key, byte[] keyBytes, int keyGroup);

  /** Completes when every record taken so far has completed. */
  CompletableFuture<Void> whenDrained();

  /**
   * The watermark reached {@code target}: completes once every record before it has completed
   * and everything it made due (event-time timers) has fired.
   */
  CompletableFuture<Void> advance(long target);

  /** Its state as of now (every record taken has completed); null handle when stateless. */
  CompletableFuture<StateHandle> snapshot();

  /** Its state's hottest blocks in the worker's cache (none when stateless). */
  HotBlocks hotBlocks();

  /** State bytes uploaded so far (0 when stateless). */
  long uploadedBytes();

  /** About how many bytes of state it holds (0 when stateless). */
  long stateBytes();

  /** The most records it had in flight at once (0 when it runs them in place). */
  int maxObservedInFlight();

  /** The input has ended and every record has completed: closes its function. */
  void close() throws Exception;

  /** Stops at once (a restart or cancel): nothing more runs. */
  void cancel();

  /** Closes its state once the task has stopped. */
  void releaseState();
}
