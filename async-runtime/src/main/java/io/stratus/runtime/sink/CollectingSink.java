package io.stratus.runtime.sink;

import java.util.ArrayList;
import java.util.List;

/** Keeps every record in memory, for tests and examples. Thread-safe. */
public final class CollectingSink<T> implements Sink<T> {

  private final List<T> records = new ArrayList<>();

  @Override
  public SinkWriter<T> createWriter(int subtask, int parallelism) {
    return record -> {
      synchronized (records) {
        records.add(record);
      }
    };
  }

  /** A copy of what was written so far. */
  public List<T> records() {
    synchronized (records) {
      return new ArrayList<>(records);
    }
  }

  public void clear() {
    synchronized (records) {
      records.clear();
    }
  }
}
