package io.stratus.runtime.functions;

import io.stratus.runtime.state.StateDescriptor;

/**
 * The low-level keyed operator, shaped like Flink's: {@link #open} declares state,
 * {@link #processElement} handles each record with its key's state, {@link #onTimer} handles a
 * timer the key registered. Unlike Flink 1.x, state reads return futures: chain on them instead
 * of blocking. Each task gets its own copy (made by Java serialization, as Flink does), so keep
 * state handles in transient fields set in {@link #open}. Records of one key are processed
 * strictly in arrival order, each only after the previous one's futures have all completed;
 * records of different keys overlap.
 *
 * @param <K>   the key type
 * @param <IN>  input records
 * @param <OUT> output records
 */
public abstract class KeyedProcessFunction<K, IN, OUT> implements java.io.Serializable {

  /** Called once per task before the first record; declare state here. */
  public void open(OpenContext context) throws Exception {}

  public abstract void processElement(IN value, Context<K> context, Collector<OUT> out)
      throws Exception;

  /** Called when a timer registered by this key fires. */
  public void onTimer(long timestamp, Context<K> context, Collector<OUT> out) throws Exception {}

  /** Called once per task after the last record. */
  public void close() throws Exception {}

  /** What {@link #open} can do. */
  public interface OpenContext {
    /** The state handle the descriptor declares. */
    <S> S state(StateDescriptor<S> descriptor);

    /** This task's index among the operator's parallel tasks. */
    int subtaskIndex();

    int parallelism();
  }

  /** What {@link #processElement} and {@link #onTimer} can see and do. */
  public interface Context<K> {
    K currentKey();

    /** The record's (or timer's) event timestamp, or {@link Long#MIN_VALUE}. */
    long timestamp();

    TimerService timerService();

    /**
     * Emits {@code value} to the side output {@code tag} (with the current timestamp). Dropped
     * if the job sends that tag to no sink.
     */
    <X> void output(OutputTag<X> tag, X value);
  }

  /** Timers of the current key. */
  public interface TimerService {
    long currentWatermark();

    long currentProcessingTime();

    void registerEventTimeTimer(long timestamp);

    void registerProcessingTimeTimer(long timestamp);

    void deleteEventTimeTimer(long timestamp);

    void deleteProcessingTimeTimer(long timestamp);
  }
}
