package io.stratus.runtime.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.execution.JobResult;
import io.stratus.runtime.execution.TaskFailureException;
import io.stratus.runtime.functions.Collector;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.sink.CollectingSink;
import io.stratus.runtime.source.Payment;
import io.stratus.runtime.source.PaymentGenerator;
import io.stratus.runtime.source.SequenceSource;
import io.stratus.runtime.state.StateDescriptor;
import io.stratus.runtime.state.ValueState;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Whole jobs on each backend: results equal a plain computation of the same input. */
class KeyedJobTest {

  @TempDir
  Path dir;

  private RuntimeConfig config(String backend) {
    return RuntimeConfig.defaults().withBackend(backend).withParallelism(3)
        .withLocalStateDirectory(dir.resolve("rocksdb"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"heap", "disaggregated", "rocksdb-local"})
  void rollingSumPerUserMatchesAPlainComputation(String backend) {
    PaymentGenerator payments = new PaymentGenerator(7, 500, 20_000, 1000, 50, 0);
    CollectingSink<long[]> sink = new CollectingSink<>();
    try (StreamEnvironment env = StreamEnvironment.local(config(backend))) {
      env.fromSource(payments, WatermarkStrategy.noWatermarks(), "payments", 2)
          .map(p -> new long[] {p.userId(), p.amountCents()})
          .returns(Serdes.LONG_ARRAY)
          .keyBy(a -> a[0], Serdes.LONG)
          .process(new RunningTotal(), "totals")
          .sinkTo(sink);
      JobResult result = env.execute("rolling-sum").join();
      assertEquals(40_000, result.recordsIn().entrySet().stream()
          .filter(e -> e.getKey().startsWith("totals")).mapToLong(Map.Entry::getValue).sum());
    }
    Map<Long, Long> expected = new HashMap<>();
    for (int split = 0; split < 2; split++) {
      for (long n = 0; n < 20_000; n++) {
        Payment p = payments.event(split, 2, n);
        expected.merge(p.userId(), p.amountCents(), Long::sum);
      }
    }
    Map<Long, Long> finalTotals = new HashMap<>();
    Map<Long, Long> counts = new HashMap<>();
    for (long[] out : sink.records()) {
      finalTotals.merge(out[0], out[1], Math::max);
      counts.merge(out[0], 1L, Long::sum);
    }
    assertEquals(expected, finalTotals);
    assertEquals(40_000, sink.records().size());
  }

  /** Sums amounts per user in ValueState; emits (user, running total). */
  static final class RunningTotal extends KeyedProcessFunction<Long, long[], long[]> {
    private transient ValueState<Long> total;

    @Override
    public void open(OpenContext context) {
      total = context.state(new StateDescriptor.Value<>("total", Serdes.LONG));
    }

    @Override
    public void processElement(long[] value, Context<Long> context, Collector<long[]> out) {
      total.value().thenAccept(old -> {
        long next = (old == null ? 0 : old) + value[1];
        total.update(next);
        out.collect(new long[] {context.currentKey(), next});
      });
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"heap", "disaggregated"})
  void anExceptionFailsTheJobNamingTheRecord(String backend) {
    try (StreamEnvironment env = StreamEnvironment.local(config(backend))) {
      env.fromSource(new SequenceSource(1, 10_000), WatermarkStrategy.noWatermarks(), "numbers")
          .keyBy(n -> n % 100, Serdes.LONG)
          .process(new FailsAt4242(), "fails")
          .sinkTo(new CollectingSink<>());
      CompletionException e = assertThrows(CompletionException.class,
          () -> env.execute("failing").join());
      TaskFailureException failure = assertInstanceOf(TaskFailureException.class, e.getCause());
      assertEquals(4242L, failure.record());
      assertTrue(failure.getMessage().contains("fails -> sink[")
          && failure.getMessage().contains("4242")
          && failure.getMessage().contains("key 42"), failure.getMessage());
      assertInstanceOf(ArithmeticException.class, failure.getCause());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"heap", "disaggregated", "rocksdb-local"})
  void eventTimeTimersFireInOrderAfterTheWatermark(String backend) {
    CollectingSink<String> sink = new CollectingSink<>();
    try (StreamEnvironment env = StreamEnvironment.local(config(backend).withParallelism(2))) {
      env.fromSource(new SequenceSource(0, 999),
              WatermarkStrategy.forBoundedOutOfOrderness(Duration.ZERO), "numbers")
          .keyBy(n -> n % 10, Serdes.LONG)
          .process(new TimerPerHundred(), "timers")
          .sinkTo(sink);
      env.execute("timers").join();
    }
    List<String> fired = sink.records();
    assertEquals(100, fired.size(), fired.toString());
    for (long key = 0; key < 10; key++) {
      long previous = -1;
      for (String f : fired) {
        if (f.startsWith(key + "@")) {
          long ts = Long.parseLong(f.substring(f.indexOf('@') + 1, f.indexOf(' ')));
          long wm = Long.parseLong(f.substring(f.indexOf("wm=") + 3));
          assertTrue(ts > previous, "timers of key " + key + " out of order: " + fired);
          assertTrue(wm >= ts, "timer fired before the watermark passed it: " + f);
          previous = ts;
        }
      }
    }
  }

  static final class FailsAt4242 extends KeyedProcessFunction<Long, Long, Long> {
    @Override
    public void processElement(Long value, Context<Long> context, Collector<Long> out) {
      if (value == 4242) {
        throw new ArithmeticException("boom at 4242");
      }
      out.collect(value);
    }
  }

  /** Registers a timer at the end of each hundred; reports it with the watermark it fires at. */
  static final class TimerPerHundred extends KeyedProcessFunction<Long, Long, String> {
    @Override
    public void processElement(Long value, Context<Long> context, Collector<String> out) {
      context.timerService().registerEventTimeTimer((value / 100) * 100 + 99);
    }

    @Override
    public void onTimer(long timestamp, Context<Long> context, Collector<String> out) {
      out.collect(context.currentKey() + "@" + timestamp + " wm="
          + context.timerService().currentWatermark());
    }
  }
}
