package io.stratus.runtime.sink;

import java.util.concurrent.atomic.LongAdder;

/** Drops every record and counts them: for benchmarks. */
public final class DiscardingSink<T> implements Sink<T> {

  private final LongAdder count = new LongAdder();

  @Override
  public SinkWriter<T> createWriter(int subtask, int parallelism) {
    return record -> count.increment();
  }

  public long count() {
    return count.sum();
  }
}
