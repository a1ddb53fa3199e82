package io.stratus.runtime.state;

import java.util.List;

/** A list per key (and namespace); {@link #add} appends without reading the list. */
public interface ListState<T> {

  /** The current key's list; empty if none. */
  StateFuture<List<T>> get();

  void add(T value);

  /** Replaces the list. */
  void update(List<T> values);

  void clear();
}
