package io.stratus.runtime.source;

/**
 * A record with its event timestamp.
 *
 * @param value     the record
 * @param timestamp event time in epoch milliseconds, or {@link Long#MIN_VALUE} if none
 */
public record SourceRecord<T>(T value, long timestamp) {}
