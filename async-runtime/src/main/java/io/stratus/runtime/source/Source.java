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
   * Whether the source's parallelism may change between checkpoint and restore (a rescale
   * names the source like a keyed operator). Each reader of a rescalable source is given the
   * positions of every split in the checkpoint and picks the splits it reads now; split names
   * must therefore not depend on the parallelism. A source whose splits are "the i-th of n"
   * (the generators here) is not rescalable.
   */
  default boolean rescalable() {
    return false;
  }

  /**
   * The records' serde, when the source knows it; null lets the stream API derive it from the
   * source's type argument ({@code implements Source<Payment>}), or the job declare it with
   * {@code returns(serde)}. Records cross between tasks as bytes of this serde.
   */
  default Serde<T> serde() {
    return null;
  }
}
