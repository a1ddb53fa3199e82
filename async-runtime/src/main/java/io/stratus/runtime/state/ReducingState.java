package io.stratus.runtime.state;

/** A value per key folded with a reduce function. */
public interface ReducingState<T> {

  StateFuture<T> get();

  /** Folds {@code value} into the current key's value (read-modify-write). */
  StateFuture<Void> add(T value);

  void clear();
}
