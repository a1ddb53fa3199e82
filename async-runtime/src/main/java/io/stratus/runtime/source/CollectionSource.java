package io.stratus.runtime.source;

import io.stratus.runtime.serde.Serde;
import io.stratus.runtime.serde.Serdes;

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

  /** The serde of the elements' class, when they all have one that has a built-in serde. */
  @Override
  @SuppressWarnings("unchecked")
  public Serde<T> serde() {
    Class<?> type = null;
    for (T e : elements) {
      if (e == null || type != null && e.getClass() != type) {
        return null;
      }
      type = e.getClass();
    }
    if (type == null) {
      return null;
    }
    try {
      return (Serde<T>) Serdes.of(type);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  @Override
  public SourceReader<T> createReader(int split, int splits) {
    return new OffsetReader<>() {
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
