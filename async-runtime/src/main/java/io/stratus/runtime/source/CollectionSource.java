package io.stratus.runtime.source;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * The elements of a list; split {@code i} of {@code n} reads the elements at positions
 * {@code i, i + n, ...}. Timestamps come from a function, or are absent.
 */
public final class CollectionSource<T> implements Source<T> {

  private final List<T> elements;
  private final ToLongFunction<T> timestamps;

  public CollectionSource(List<T> elements) {
    this(elements, e -> Long.MIN_VALUE);
  }

  public CollectionSource(List<T> elements, ToLongFunction<T> timestamps) {
    this.elements = List.copyOf(elements);
    this.timestamps = timestamps;
  }

  @Override
  public boolean bounded() {
    return true;
  }

  @Override
  public SourceReader<T> createReader(int split, int splits) {
    return new SourceReader<>() {
      private int next = split;

      @Override
      public List<SourceRecord<T>> poll(int max) {
        if (next >= elements.size()) {
          return null;
        }
        List<SourceRecord<T>> out = new ArrayList<>(max);
        while (out.size() < max && next < elements.size()) {
          T e = elements.get(next);
          out.add(new SourceRecord<>(e, timestamps.applyAsLong(e)));
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
        next = (int) offset;
      }
    };
  }
}
