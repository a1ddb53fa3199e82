package io.stratus.runtime.state;

import java.util.List;
import java.util.Map;

/** A map per key (and namespace). */
public interface MapState<K, V> {

  StateFuture<V> get(K key);

  void put(K key, V value);

  void remove(K key);

  StateFuture<Boolean> contains(K key);

  /** All entries, in the byte order of the encoded map keys. */
  StateFuture<List<Map.Entry<K, V>>> entries();

  StateFuture<Boolean> isEmpty();

  /** Removes every entry of the current key. */
  StateFuture<Void> clear();
}
