package io.stratus.runtime.state;

/**
 * Incremental aggregation, as Flink's {@code AggregateFunction}: an accumulator is created,
 * fed values, optionally merged (session windows), and turned into a result.
 *
 * @param <IN>  input values
 * @param <ACC> the accumulator
 * @param <OUT> the result
 */
public interface Aggregator<IN, ACC, OUT> extends java.io.Serializable {

  ACC createAccumulator();

  ACC add(IN value, ACC accumulator);

  OUT getResult(ACC accumulator);

  /** Combines two accumulators; needed by merging windows. */
  default ACC merge(ACC a, ACC b) {
    throw new UnsupportedOperationException(getClass().getName() + " does not merge");
  }
}
