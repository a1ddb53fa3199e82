package io.stratus.runtime.source;

/**
 * A replayable input: split into {@code splits} parallel readers, each of which can start from
 * an offset it reported before. Exactly-once processing rests on this: a checkpoint records the
 * offsets, recovery seeks back to them.
 *
 * @param <T> the records
 */
public interface Source<T> {

  /** A reader of split {@code split} (of {@code splits}), positioned at its start. */
  SourceReader<T> createReader(int split, int splits);

  /** Whether every reader eventually ends. */
  boolean bounded();
}
