package io.stratus.runtime.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.functions.Collector;
import io.stratus.runtime.functions.DeadLetter;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.sink.CollectingSink;
import io.stratus.runtime.source.SequenceSource;
import io.stratus.runtime.state.BackendFixture;
import io.stratus.runtime.state.StateDescriptor;
import io.stratus.runtime.state.ValueState;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Records whose processing throws go to the dead-letter sink, and the job goes on. */
class DeadLetterTest {

  private static final int N = 1_000;
  /** Runs per record, across task copies (each test resets it). */
  static final Map<Long, AtomicInteger> RUNS = new ConcurrentHashMap<>();

  @TempDir
  Path dir;

  static Stream<String> kinds() {
    return BackendFixture.KINDS.stream();
  }

  /**
   * Counts records per key. Multiples of 7 always throw; multiples of 11 (not of 7) throw on
   * their first run only; multiples of 13 (neither) throw in a state continuation.
   */
  static final class Picky extends KeyedProcessFunction<Long, Long, String> {
    private transient ValueState<Long> count;

    @Override
    public void open(OpenContext context) {
      count = context.state(new StateDescriptor.Value<>("count", Serdes.LONG));
    }

    @Override
    public void processElement(Long x, Context<Long> context, Collector<String> out) {
      int run = RUNS.computeIfAbsent(x, k -> new AtomicInteger()).incrementAndGet();
      if (x % 7 == 0) {
        throw new IllegalArgumentException("multiple of 7: " + x);
      }
      if (x % 11 == 0 && run == 1) {
        throw new IllegalStateException("flaky first run of " + x);
      }
      count.value().thenAccept(c -> {
        if (x % 13 == 0) {
          throw new ArithmeticException("unlucky " + x);
        }
        long next = c == null ? 1 : c + 1;
        count.update(next);
        out.collect(x + "," + next);
      });
    }
  }

  /** Counts per key and emits; never fails itself. */
  static final class Counting extends KeyedProcessFunction<Long, Long, Long> {
    @Override
    public void processElement(Long x, Context<Long> context, Collector<Long> out) {
      RUNS.computeIfAbsent(x, k -> new AtomicInteger()).incrementAndGet();
      out.collect(x);
    }
  }

  @Test
  void aFailureAfterTheOperatorIsNotTheRecordsOwnAndFailsTheJob() {
    RUNS.clear();
    CollectingSink<DeadLetter<Long>> dead = new CollectingSink<>();
    try (StreamEnvironment env = StreamEnvironment.local(RuntimeConfig.defaults()
        .withBackend("heap").withLocalStateDirectory(dir.resolve("rocksdb")))) {
      ProcessedStream<Long> counted = env.fromSource(new SequenceSource(1, 100),
              WatermarkStrategy.noWatermarks(), "numbers")
          .keyBy(x -> x % 5, Serdes.LONG)
          .process(new Counting(), "counting")
          .deadLettersTo(dead, 3);
      // A chained step after the operator breaks: a broken sink, not a bad record.
      counted.map(x -> {
        if (x == 50) {
          throw new IllegalStateException("sink down at " + x);
        }
        return x;
      }).sinkTo(new CollectingSink<>());
      ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
          ExecutionException.class, () -> env.execute("downstream").get());
      assertTrue(String.valueOf(e.getCause()).contains("sink down at 50"),
          String.valueOf(e.getCause()));
    }
    assertEquals(List.of(), dead.records(), "a downstream failure was dead-lettered");
    assertEquals(1, RUNS.get(50L).get(), "the record was run again, emitting twice");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("kinds")
  void failingRecordsAreDeadLetteredWithErrorAndAttemptsAndTheRestGoesOn(String backend) {
    RUNS.clear();
    CollectingSink<String> out = new CollectingSink<>();
    CollectingSink<DeadLetter<Long>> dead = new CollectingSink<>();
    RuntimeConfig config = RuntimeConfig.defaults().withBackend(backend).withParallelism(2)
        .withLocalStateDirectory(dir.resolve("rocksdb"));
    try (StreamEnvironment env = StreamEnvironment.local(config)) {
      env.fromSource(new SequenceSource(1, N), WatermarkStrategy.forMonotonousTimestamps(),
              "numbers")
          .keyBy(x -> x % 5, Serdes.LONG)
          .process(new Picky(), "picky")
          .deadLettersTo(dead, 3)
          .sinkTo(out);
      env.execute("dead-letters").join();
    }

    List<String> expectedDead = new ArrayList<>();
    List<Long> kept = new ArrayList<>();
    for (long x = 1; x <= N; x++) {
      if (x % 7 == 0) {
        expectedDead.add(x + " key " + x % 5 + " ts " + x
            + " java.lang.IllegalArgumentException: multiple of 7: " + x + " attempts 3");
      } else if (x % 13 == 0 && x % 11 != 0) {
        expectedDead.add(x + " key " + x % 5 + " ts " + x
            + " java.lang.ArithmeticException: unlucky " + x + " attempts 1");
      } else if (x % 13 == 0) {
        // Throws on its first run (retried), then in the continuation of the second.
        expectedDead.add(x + " key " + x % 5 + " ts " + x
            + " java.lang.ArithmeticException: unlucky " + x + " attempts 1");
      } else {
        kept.add(x);
      }
    }
    List<String> gotDead = dead.records().stream()
        .map(d -> d.record() + " key " + d.key() + " ts " + d.timestamp() + " " + d.error()
            + " attempts " + d.attempts())
        .sorted((a, b) -> Long.compare(Long.parseLong(a.split(" ")[0]),
            Long.parseLong(b.split(" ")[0])))
        .toList();
    assertEquals(expectedDead, gotDead);

    // Per key, the kept records are counted in order: dead letters changed no count.
    List<String> expectedOut = new ArrayList<>();
    long[] perKey = new long[5];
    for (long x : kept) {
      expectedOut.add(x + "," + ++perKey[(int) (x % 5)]);
    }
    List<String> gotOut = new ArrayList<>(out.records());
    gotOut.sort((a, b) -> Long.compare(Long.parseLong(a.split(",")[0]),
        Long.parseLong(b.split(",")[0])));
    assertEquals(expectedOut, gotOut);
    assertEquals(2, RUNS.get(11L).get(), "a flaky record runs twice");
    assertEquals(3, RUNS.get(7L).get());
  }

  @Test
  void withoutADeadLetterSinkAFailingRecordFailsTheJob() {
    RUNS.clear();
    CollectingSink<String> out = new CollectingSink<>();
    try (StreamEnvironment env = StreamEnvironment.local(RuntimeConfig.defaults()
        .withBackend("heap").withLocalStateDirectory(dir.resolve("rocksdb")))) {
      env.fromSource(new SequenceSource(1, 100), WatermarkStrategy.noWatermarks(), "numbers")
          .keyBy(x -> x % 5, Serdes.LONG)
          .process(new Picky(), "picky")
          .sinkTo(out);
      ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
          ExecutionException.class, () -> env.execute("no-dead-letters").get());
      // Whichever task fails first: the failure names the record and its error.
      String message = String.valueOf(e.getCause());
      assertTrue(message.contains("failed processing record")
          && (message.contains("multiple of 7") || message.contains("flaky first run")
              || message.contains("unlucky")), message);
    }
  }
}
