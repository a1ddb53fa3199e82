package io.stratus.runtime.state;

/** An accumulator per key fed by {@link #add}; {@link #get} returns its result. */
public interface AggregatingState<IN, OUT> {

  StateFuture<OUT> get();

  StateFuture<Void> add(IN value);

  void clear();
}
