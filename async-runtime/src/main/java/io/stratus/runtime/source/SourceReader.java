package io.stratus.runtime.source;

import java.util.List;
import java.util.Map;

/**
 * Reads splits of a {@link Source}. Called on one thread only; never blocks for long.
 *
 * <p>A reader's position is the next offset of each split it reads, by split name (a Kafka
 * partition, say). Checkpoints record it; restores hand it back through {@link #seek}. Readers
 * of one split whose position is a single number implement {@link OffsetReader}.
 *
 * @param <T> the records
 */
public interface SourceReader<T> extends AutoCloseable {

  /**
   * Up to {@code max} records. An empty list means none is available now (an unbounded source
   * that is idle); {@code null} means every split of the reader has ended.
   */
  List<SourceRecord<T>> poll(int max);

  /**
   * The position after the last record returned: the next offset of each split the reader has
   * read or been given, by split name. {@link #seek} accepts it.
   */
  Map<String, Long> position();

  /**
   * Continues from {@code position}, a value {@link #position()} returned before. For a
   * {@linkplain Source#rescalable() rescalable} source it holds the splits of every reader of
   * the checkpoint (their parallelism may have been different): the reader takes the splits it
   * reads now and ignores the others.
   */
  void seek(Map<String, Long> position);

  /**
   * The splits the reader owns now, read from or not: a split with no record yet holds the
   * watermark back unless idleness lets the task pass it ({@code SplitWatermarks}).
   */
  default java.util.Set<String> splits() {
    return position().keySet();
  }

  /**
   * How far behind the end of each split the reader is, by split name, for sources that know
   * (Kafka); empty otherwise. Called on the reader's thread, about once a second.
   */
  default Map<String, SplitLag> lag() {
    return Map.of();
  }

  @Override
  default void close() {}
}
