package io.stratus.runtime.execution;

import io.stratus.runtime.state.HotBlocks;
import io.stratus.runtime.state.StateHandle;
import java.util.concurrent.CompletableFuture;

/**
 * The head of a task whose first operator is stateless (a map, process or sink after a
 * rebalance, broadcast, union...): each record goes through the chain in place, so there is
 * never anything in flight, nothing to fire and no state.
 */
final class ChainHead implements HeadOperator {

  private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

  private final TaskOutput chain;

  ChainHead(TaskOutput chain) {
    this.chain = chain;
  }

  @Override
  public CompletableFuture<Void> open(int subtask, int parallelism, Failure failure) {
    try {
      chain.open(subtask, parallelism);
      return DONE;
    } catch (Exception e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public boolean hasCapacity() {
    return true;
  }

  @Override
  public CompletableFuture<Void> whenCapacity() {
    return DONE;
  }

  @Override
  public CompletableFuture<Void> whenWritable() {
    return DONE;
  }

  /** Runs the chain; a function's exception fails the task (see {@link StreamTask}). */
  @Override
  public void process(Object value, long timestamp, Object key, byte[] keyBytes, int keyGroup) {
    try {
      chain.emit(value, timestamp);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new ChainFailure(e);
    }
  }

  /** A checked exception of a chained function, carried out of {@link #process}. */
  static final class ChainFailure extends RuntimeException {
    ChainFailure(Exception cause) {
      super(cause);
    }
  }

  @Override
  public CompletableFuture<Void> whenDrained() {
    return DONE;
  }

  @Override
  public CompletableFuture<Void> advance(long target) {
    return DONE;
  }

  @Override
  public CompletableFuture<StateHandle> snapshot() {
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public HotBlocks hotBlocks() {
    return HotBlocks.NONE;
  }

  @Override
  public long uploadedBytes() {
    return 0;
  }

  @Override
  public long stateBytes() {
    return 0;
  }

  @Override
  public int maxObservedInFlight() {
    return 0;
  }

  @Override
  public void close() {}

  @Override
  public void cancel() {}

  @Override
  public void releaseState() {}
}
