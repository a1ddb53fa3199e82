package io.stratus.runtime.source;

import java.util.List;

/**
 * Reads one split of a {@link Source}. Called on one thread only; never blocks for long.
 *
 * @param <T> the records
 */
public interface SourceReader<T> extends AutoCloseable {

  /**
   * Up to {@code max} records. An empty list means none is available now (an unbounded source
   * that is idle); {@code null} means the split has ended.
   */
  List<SourceRecord<T>> poll(int max);

  /** The position after the last record returned; {@link #seek} accepts it. */
  long offset();

  /** Continues from {@code offset}, a value {@link #offset()} returned before. */
  void seek(long offset);

  @Override
  default void close() {}
}
