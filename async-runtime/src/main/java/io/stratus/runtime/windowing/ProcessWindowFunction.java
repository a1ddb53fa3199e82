package io.stratus.runtime.windowing;

import io.stratus.runtime.functions.Collector;
import java.io.Serializable;

/**
 * Computes a window's output from all its records, with the window at hand, as Flink's
 * {@code ProcessWindowFunction}. Called each time the window fires (again for each late record
 * within the allowed lateness, with every record so far). Holds the window's records in state
 * until it is purged: prefer {@code reduce} or {@code aggregate} for large windows.
 *
 * @param <IN>  the records
 * @param <OUT> the output
 * @param <K>   the key
 */
public abstract class ProcessWindowFunction<IN, OUT, K> implements Serializable {

  public abstract void process(K key, Context context, Iterable<IN> records, Collector<OUT> out)
      throws Exception;

  /** What a firing window sees. */
  public interface Context {
    TimeWindow window();

    long currentWatermark();

    long currentProcessingTime();
  }
}
