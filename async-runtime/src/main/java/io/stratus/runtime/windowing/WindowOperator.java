package io.stratus.runtime.windowing;

import io.stratus.runtime.functions.Collector;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.functions.OutputTag;
import io.stratus.runtime.functions.ReduceFunction;
import io.stratus.runtime.serde.Serde;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.state.Aggregator;
import io.stratus.runtime.state.MapState;
import io.stratus.runtime.state.StateDescriptor;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The keyed operator behind {@code window(...)}: each key's windows live in one map state,
 * window → accumulator, so they are checkpointed, restored and rescaled like any keyed state.
 * Event-time windows fire when the watermark passes their end (one timer per window end) and are
 * purged {@code allowedLateness} later; a record for a window that has fired but is not purged
 * updates it and fires it again at once (accumulating, as Flink's default trigger); a record
 * whose windows are all purged is late and goes to the late-data side output if there is one.
 * Processing-time windows fire and are purged when the clock reaches their end. Session windows
 * of one key merge when they overlap or touch, and their accumulators merge.
 *
 * @param <K>   the key
 * @param <IN>  the records
 * @param <ACC> the accumulator kept per window
 * @param <R>   the aggregate's result
 * @param <OUT> the output
 */
public final class WindowOperator<K, IN, ACC, R, OUT> extends KeyedProcessFunction<K, IN, OUT> {

  /** Turns a firing window's result into output. */
  @FunctionalInterface
  interface Fire<K, R, OUT> extends Serializable {
    void fire(K key, TimeWindow window, R result, TimerService timers, Collector<OUT> out)
        throws Exception;
  }

  private final WindowAssigner<? super IN> assigner;
  private final Aggregator<IN, ACC, R> aggregator;
  private final StateDescriptor.Map<TimeWindow, ACC> descriptor;
  private final Fire<K, R, OUT> fire;
  private final long allowedLateness;
  private final OutputTag<IN> lateData;
  private transient MapState<TimeWindow, ACC> windows;

  private WindowOperator(WindowAssigner<? super IN> assigner, Aggregator<IN, ACC, R> aggregator,
      Serde<ACC> accSerde, Fire<K, R, OUT> fire, long allowedLateness, OutputTag<IN> lateData) {
    if (allowedLateness < 0) {
      throw new IllegalArgumentException("allowed lateness must be >= 0, was "
          + allowedLateness + " ms");
    }
    this.assigner = assigner;
    this.aggregator = aggregator;
    this.descriptor = new StateDescriptor.Map<>("windows", TimeWindow.SERDE, accSerde);
    this.fire = fire;
    this.allowedLateness = assigner.isEventTime() ? allowedLateness : 0;
    this.lateData = lateData;
  }

  /** Each window fires its records folded with {@code reduce}. */
  public static <K, T> WindowOperator<K, T, T, T, T> reducing(WindowAssigner<? super T> assigner,
      ReduceFunction<T> reduce, Serde<T> serde, long allowedLateness, OutputTag<T> lateData) {
    Aggregator<T, T, T> folding = new Aggregator<>() {
      @Override
      public T createAccumulator() {
        return null;
      }

      @Override
      public T add(T value, T accumulator) {
        try {
          return accumulator == null ? value : reduce.reduce(accumulator, value);
        } catch (Exception e) {
          throw new IllegalStateException("window reduce function failed", e);
        }
      }

      @Override
      public T getResult(T accumulator) {
        return accumulator;
      }

      @Override
      public T merge(T a, T b) {
        return a == null ? b : b == null ? a : add(b, a);
      }
    };
    return new WindowOperator<>(assigner, folding, serde,
        (key, window, result, timers, out) -> out.collect(result), allowedLateness, lateData);
  }

  /** Each window fires the aggregator's result (it must merge for session windows). */
  public static <K, T, A, R> WindowOperator<K, T, A, R, R> aggregating(
      WindowAssigner<? super T> assigner, Aggregator<T, A, R> aggregator, Serde<A> accSerde,
      long allowedLateness, OutputTag<T> lateData) {
    return new WindowOperator<>(assigner, aggregator, accSerde,
        (key, window, result, timers, out) -> out.collect(result), allowedLateness, lateData);
  }

  /**
   * Each window's aggregate, kept incrementally, handed to {@code function} with the window
   * when it fires (as the only element of its records).
   */
  public static <K, T, A, R, OUT> WindowOperator<K, T, A, R, OUT> aggregating(
      WindowAssigner<? super T> assigner, Aggregator<T, A, R> aggregator, Serde<A> accSerde,
      ProcessWindowFunction<R, OUT, K> function, long allowedLateness, OutputTag<T> lateData) {
    return new WindowOperator<>(assigner, aggregator, accSerde,
        (key, window, result, timers, out) -> function.process(key, context(window, timers),
            List.of(result), out), allowedLateness, lateData);
  }

  private static ProcessWindowFunction.Context context(TimeWindow window, TimerService timers) {
    return new ProcessWindowFunction.Context() {
      @Override
      public TimeWindow window() {
        return window;
      }

      @Override
      public long currentWatermark() {
        return timers.currentWatermark();
      }

      @Override
      public long currentProcessingTime() {
        return timers.currentProcessingTime();
      }
    };
  }

  /** Each window hands all its records, in arrival order, to {@code function}. */
  public static <K, T, OUT> WindowOperator<K, T, List<T>, List<T>, OUT> processing(
      WindowAssigner<? super T> assigner, ProcessWindowFunction<T, OUT, K> function,
      Serde<T> serde, long allowedLateness, OutputTag<T> lateData) {
    Aggregator<T, List<T>, List<T>> collecting = new Aggregator<>() {
      @Override
      public List<T> createAccumulator() {
        return new ArrayList<>();
      }

      @Override
      public List<T> add(T value, List<T> accumulator) {
        List<T> next = new ArrayList<>(accumulator);
        next.add(value);
        return next;
      }

      @Override
      public List<T> getResult(List<T> accumulator) {
        return accumulator;
      }

      @Override
      public List<T> merge(List<T> a, List<T> b) {
        List<T> next = new ArrayList<>(a);
        next.addAll(b);
        return next;
      }
    };
    return new WindowOperator<>(assigner, collecting, Serdes.listOf(serde),
        (key, window, records, timers, out) -> function.process(key, context(window, timers),
            records, out), allowedLateness, lateData);
  }

  @Override
  public void open(OpenContext context) {
    windows = context.state(descriptor);
  }

  @Override
  public void processElement(IN value, Context<K> context, Collector<OUT> out) {
    TimerService timers = context.timerService();
    long time;
    if (assigner.isEventTime()) {
      time = context.timestamp();
      if (time == Long.MIN_VALUE) {
        throw new IllegalStateException("an event-time window got a record without a "
            + "timestamp: the source must give timestamps (or use processing-time windows)");
      }
    } else {
      time = timers.currentProcessingTime();
    }
    List<TimeWindow> assigned = assigner.assignWindows(value, time);
    if (assigner.merging()) {
      addToSession(value, assigned.get(0), context, out);
      return;
    }
    long watermark = timers.currentWatermark();
    boolean placed = false;
    for (TimeWindow window : assigned) {
      if (isPurged(window, watermark)) {
        continue;
      }
      placed = true;
      windows.get(window).thenAccept(acc -> {
        ACC next = aggregator.add(value, acc == null ? aggregator.createAccumulator() : acc);
        windows.put(window, next);
        afterUpdate(window, next, acc == null, context, out);
      });
    }
    if (!placed) {
      late(value, context);
    }
  }

  /** Merges the record's session window with the key's sessions it overlaps or touches. */
  private void addToSession(IN value, TimeWindow fresh, Context<K> context,
      Collector<OUT> out) {
    windows.entries().thenAccept(entries -> {
      List<Map.Entry<TimeWindow, ACC>> absorbed = new ArrayList<>();
      TimeWindow merged = fresh;
      for (Map.Entry<TimeWindow, ACC> e : entries) {
        if (e.getKey().intersects(fresh)) {
          absorbed.add(e);
          merged = merged.cover(e.getKey());
        }
      }
      if (isPurged(merged, context.timerService().currentWatermark())) {
        late(value, context);
        return;
      }
      absorbed.sort(Comparator.comparingLong(e -> e.getKey().start()));
      ACC acc = aggregator.createAccumulator();
      for (Map.Entry<TimeWindow, ACC> e : absorbed) {
        acc = aggregator.merge(acc, e.getValue());
        windows.remove(e.getKey());
        deleteTimers(e.getKey(), context.timerService());
      }
      acc = aggregator.add(value, acc);
      windows.put(merged, acc);
      afterUpdate(merged, acc, true, context, out);
    });
  }

  /**
   * A window of the current key changed: a window whose end the watermark has passed (within
   * the allowed lateness) fires again now; otherwise its timers are (re)registered.
   */
  private void afterUpdate(TimeWindow window, ACC acc, boolean newWindow, Context<K> context,
      Collector<OUT> out) {
    TimerService timers = context.timerService();
    if (assigner.isEventTime() && window.maxTimestamp() <= timers.currentWatermark()) {
      emit(window, acc, context, out);
      if (newWindow) {
        timers.registerEventTimeTimer(window.maxTimestamp() + allowedLateness);
      }
    } else if (newWindow) {
      registerTimers(window, timers);
    }
  }

  private void registerTimers(TimeWindow window, TimerService timers) {
    if (assigner.isEventTime()) {
      timers.registerEventTimeTimer(window.maxTimestamp());
      if (allowedLateness > 0) {
        timers.registerEventTimeTimer(window.maxTimestamp() + allowedLateness);
      }
    } else {
      timers.registerProcessingTimeTimer(window.maxTimestamp());
    }
  }

  private void deleteTimers(TimeWindow window, TimerService timers) {
    if (assigner.isEventTime()) {
      timers.deleteEventTimeTimer(window.maxTimestamp());
      timers.deleteEventTimeTimer(window.maxTimestamp() + allowedLateness);
    } else {
      timers.deleteProcessingTimeTimer(window.maxTimestamp());
    }
  }

  /** Fires the windows that end at {@code timestamp} and purges those past their lateness. */
  @Override
  public void onTimer(long timestamp, Context<K> context, Collector<OUT> out) {
    windows.entries().thenAccept(entries -> {
      for (Map.Entry<TimeWindow, ACC> e : entries) {
        TimeWindow window = e.getKey();
        if (window.maxTimestamp() == timestamp) {
          emit(window, e.getValue(), context, out);
        }
        if (window.maxTimestamp() + allowedLateness <= timestamp) {
          windows.remove(window);
        }
      }
    });
  }

  private boolean isPurged(TimeWindow window, long watermark) {
    return assigner.isEventTime() && window.maxTimestamp() + allowedLateness <= watermark;
  }

  private void late(IN value, Context<K> context) {
    if (lateData != null) {
      context.output(lateData, value);
    }
  }

  private void emit(TimeWindow window, ACC acc, Context<K> context, Collector<OUT> out) {
    try {
      fire.fire(context.currentKey(), window, aggregator.getResult(acc), context.timerService(),
          out);
    } catch (Exception e) {
      throw new IllegalStateException("window function failed for window [" + window.start()
          + ", " + window.end() + ")", e);
    }
  }
}
