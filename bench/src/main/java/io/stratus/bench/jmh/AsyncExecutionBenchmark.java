package io.stratus.bench.jmh;

import io.stratus.runtime.execution.AsyncExecutionController;
import io.stratus.runtime.state.RecordContext;
import io.stratus.runtime.state.StateFuture;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * What async execution costs a record whose state is at hand (memtable or cache hit): the
 * per-key ordering of {@link AsyncExecutionController} (submit, run, complete) with and without
 * one completed state future and its continuation, against calling the record's code directly.
 * Keys cycle over 1,024 distinct ones, so records rarely wait for their key.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
public class AsyncExecutionBenchmark {

  private static final int KEYS = 1024;

  private final byte[][] keys = new byte[KEYS][];
  private AsyncExecutionController controller;
  private long next;

  @Setup
  public void setUp() {
    for (int i = 0; i < KEYS; i++) {
      keys[i] = ByteBuffer.allocate(8).putLong(i * 0x9E3779B97F4A7C15L).array();
    }
    controller = new AsyncExecutionController(Runnable::run, () -> true, 1_000,
        (context, error) -> {
          throw new IllegalStateException("record failed", error);
        });
  }

  private RecordContext record(Runnable body) {
    long n = next++;
    return new RecordContext(n, n, keys[(int) (n % KEYS)], (int) (n % 128), n, body);
  }

  @Benchmark
  public void direct(Blackhole bh) {
    long n = next++;
    bh.consume(n);
  }

  @Benchmark
  public void controllerNoState(Blackhole bh) {
    controller.submit(record(() -> bh.consume(next)));
  }

  @Benchmark
  public void controllerOneCompletedStateFuture(Blackhole bh) {
    controller.submit(record(() ->
        StateFuture.completed(next, controller).thenAccept(bh::consume)));
  }
}
