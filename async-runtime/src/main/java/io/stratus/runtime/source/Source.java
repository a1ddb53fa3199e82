package io.stratus.runtime.source;

import io.stratus.runtime.serde.Serde;

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

  /**
   * The records' serde, when the source knows it; null lets the stream API derive it from the
   * source's type argument ({@code implements Source<Payment>}), or the job declare it with
   * {@code returns(serde)}. Records cross between tasks as bytes of this serde.
   */
  default Serde<T> serde() {
    return null;
  }
}
