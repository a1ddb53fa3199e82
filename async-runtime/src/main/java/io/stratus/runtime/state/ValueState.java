package io.stratus.runtime.state;

/** One value per key (and namespace). */
public interface ValueState<T> {

  /** The current key's value, or {@code null}. */
  StateFuture<T> value();

  /** Sets the current key's value ({@code null} clears it). */
  void update(T value);

  void clear();
}
