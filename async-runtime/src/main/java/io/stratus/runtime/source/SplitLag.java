package io.stratus.runtime.source;

/**
 * How far a reader is behind the end of one split (a Kafka partition's consumer lag).
 *
 * @param records records in the split after the reader's position
 * @param millis  now minus the timestamp of the last record read, while records wait; 0 when
 *                the reader is at the end
 */
public record SplitLag(long records, long millis) {}
