package io.stratus.runtime.source;

/**
 * A record with its event timestamp and, for readers of several splits, the split it came from.
 *
 * @param value     the record
 * @param timestamp event time in epoch milliseconds, or {@link Long#MIN_VALUE} if none
 * @param split     the split's name ({@link SourceReader#position()}), for watermarks per
 *                  split; null when the reader reads one split
 */
public record SourceRecord<T>(T value, long timestamp, String split) {

  /** A record of a reader with one split. */
  public SourceRecord(T value, long timestamp) {
    this(value, timestamp, null);
  }
}
