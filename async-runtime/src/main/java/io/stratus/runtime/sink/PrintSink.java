package io.stratus.runtime.sink;

import java.io.PrintStream;

/** Prints each record on a line, prefixed with the task index when parallel. */
public final class PrintSink<T> implements Sink<T> {

  private final PrintStream out;

  public PrintSink() {
    this(System.out);
  }

  public PrintSink(PrintStream out) {
    this.out = out;
  }

  @Override
  public SinkWriter<T> createWriter(int subtask, int parallelism) {
    String prefix = parallelism > 1 ? subtask + "> " : "";
    return record -> out.println(prefix + record);
  }
}
