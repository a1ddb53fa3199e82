package io.stratus.runtime.functions;

/**
 * A non-keyed operator with a lifecycle, shaped like Flink's {@code ProcessFunction}:
 * {@link #open} once per task before the first record, {@link #processElement} for each record,
 * {@link #close} after the last. It has no keyed state and no timers (a keyed operator has
 * both). Each task gets its own copy (made by Java serialization, as Flink does), so a field is
 * never shared between tasks: open connections and caches in {@link #open}, in transient fields.
 *
 * @param <IN>  input records
 * @param <OUT> output records
 */
public abstract class ProcessFunction<IN, OUT> implements java.io.Serializable {

  /** Called once per task before the first record. */
  public void open(OpenContext context) throws Exception {}

  public abstract void processElement(IN value, Context context, Collector<OUT> out)
      throws Exception;

  /** Called once per task after the last record (not when the task is canceled). */
  public void close() throws Exception {}

  /** What {@link #open} can see. */
  public interface OpenContext {
    /** This task's index among the operator's parallel tasks. */
    int subtaskIndex();

    int parallelism();
  }

  /** What {@link #processElement} can see. */
  public interface Context {
    /** The record's event timestamp, or {@link Long#MIN_VALUE}. */
    long timestamp();

    /** The task's current watermark. */
    long currentWatermark();
  }
}
