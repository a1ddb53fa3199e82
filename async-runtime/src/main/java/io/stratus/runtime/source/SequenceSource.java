package io.stratus.runtime.source;

import io.stratus.runtime.serde.Serde;
import io.stratus.runtime.serde.Serdes;

import java.util.ArrayList;
import java.util.List;

/**
 * The numbers {@code from..to} (inclusive); split {@code i} of {@code n} reads the numbers whose
 * position is {@code i} modulo {@code n}. Each number's event timestamp is the number itself.
 */
public final class SequenceSource implements Source<Long> {

  private final long from;
  private final long to;

  public SequenceSource(long from, long to) {
    if (to < from) {
      throw new IllegalArgumentException("sequence end " + to + " is before its start " + from);
    }
    this.from = from;
    this.to = to;
  }

  @Override
  public boolean bounded() {
    return true;
  }

  @Override
  public Serde<Long> serde() {
    return Serdes.LONG;
  }

  @Override
  public SourceReader<Long> createReader(int split, int splits) {
    return new OffsetReader<>() {
      private long next = from + split;

      @Override
      public List<SourceRecord<Long>> poll(int max) {
        if (next > to) {
          return null;
        }
        List<SourceRecord<Long>> out = new ArrayList<>(max);
        while (out.size() < max && next <= to) {
          out.add(new SourceRecord<>(next, next));
          next += splits;
        }
        return out;
      }

      @Override
      public long offset() {
        return next;
      }

      @Override
      public void seek(long offset) {
        next = offset;
      }
    };
  }
}
