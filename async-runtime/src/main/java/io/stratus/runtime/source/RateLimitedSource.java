package io.stratus.runtime.source;

import io.stratus.runtime.serde.Serde;
import java.util.List;
import java.util.Map;

/**
 * A source held to at most {@code perSecond} records per second per split, by wall clock:
 * a reader that is ahead returns an empty batch (the task polls again shortly) instead of
 * sleeping, so nothing blocks the task's event loop. Offsets are the wrapped source's, so a
 * restored reader replays exactly what it would have; the pace starts over at each reader.
 *
 * @param <T> the records
 */
public final class RateLimitedSource<T> implements Source<T> {

  private final Source<T> source;
  private final long perSecond;

  /** {@code source} at most {@code perSecond} records per second per split (at least 1). */
  public RateLimitedSource(Source<T> source, long perSecond) {
    if (perSecond < 1) {
      throw new IllegalArgumentException("a rate limit must be at least 1 record/s, was "
          + perSecond);
    }
    this.source = source;
    this.perSecond = perSecond;
  }

  @Override
  public SourceReader<T> createReader(int split, int splits) {
    SourceReader<T> reader = source.createReader(split, splits);
    return new SourceReader<>() {
      private final long start = System.nanoTime();
      private long emitted;

      @Override
      public List<SourceRecord<T>> poll(int max) {
        long allowed = (System.nanoTime() - start) / 1_000_000 * perSecond / 1000 - emitted;
        if (allowed <= 0) {
          return List.of();
        }
        List<SourceRecord<T>> batch = reader.poll((int) Math.min(max, allowed));
        if (batch != null) {
          emitted += batch.size();
        }
        return batch;
      }

      @Override
      public Map<String, Long> position() {
        return reader.position();
      }

      @Override
      public void seek(Map<String, Long> position) {
        reader.seek(position);
      }

      @Override
      public java.util.Set<String> splits() {
        return reader.splits();
      }

      @Override
      public Map<String, SplitLag> lag() {
        return reader.lag();
      }

      @Override
      public void close() {
        reader.close();
      }
    };
  }

  @Override
  public boolean bounded() {
    return source.bounded();
  }

  @Override
  public boolean rescalable() {
    return source.rescalable();
  }

  @Override
  public Serde<T> serde() {
    return source.serde();
  }
}
