package io.stratus.runtime.execution;

import io.stratus.runtime.serde.Serde;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.source.Payment;
import java.util.List;
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
 * What a record costs to cross from one operator to the next, for a 5-field record
 * ({@link Payment}): chained (a map step hands the reference on in the same call) against an
 * exchange (the producer serializes it with its edge's serde into an inbox, the consumer polls
 * and decodes it), forward and by key ({@code keyBy}: the key's bytes and key group too). Both
 * ends on one thread: the cost of the hand-over to another task's thread (the same inbox queue
 * as before exchanges carried bytes) is not in it. In this package to reach the runtime's
 * task classes.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
public class ExchangeBenchmark {

  private static final Serde<Payment> PAYMENTS = Serdes.record(Payment.class);

  private final Payment[] payments = new Payment[1024];
  private TaskOutput chained;
  private TaskOutput forward;
  private TaskOutput hash;
  private TaskInbox forwardInbox;
  private TaskInbox hashInbox;
  private Blackhole sink;
  private int next;

  @Setup
  public void setUp(Blackhole blackhole) {
    this.sink = blackhole;
    for (int i = 0; i < payments.length; i++) {
      payments[i] = new Payment(i, i * 31L % 10_000, 100 + i, "merchant-" + (i % 50),
          1_700_000_000_000L + i);
    }
    chained = new TaskOutput.MapStep(p -> p, new TaskOutput() {
      @Override
      void emit(Object value, long timestamp) {
        sink.consume(value);
      }
    });
    forwardInbox = new TaskInbox(1 << 20);
    hashInbox = new TaskInbox(1 << 20);
    forward = new TaskOutput.Forward(forwardInbox, 0, PAYMENTS);
    hash = new TaskOutput.Hash(List.of(hashInbox), 0, PAYMENTS,
        p -> ((Payment) p).userId(), Serdes.LONG, 128);
  }

  private Payment nextPayment() {
    return payments[next++ & (payments.length - 1)];
  }

  @Benchmark
  public void chained() throws Exception {
    Payment p = nextPayment();
    chained.emit(p, p.timestamp());
  }

  @Benchmark
  public void forwardExchange() throws Exception {
    Payment p = nextPayment();
    forward.emit(p, p.timestamp());
    StreamElement.Record r = (StreamElement.Record) forwardInbox.poll();
    sink.consume(PAYMENTS.fromBytes(r.value()));
  }

  @Benchmark
  public void hashExchange() throws Exception {
    Payment p = nextPayment();
    hash.emit(p, p.timestamp());
    StreamElement.Record r = (StreamElement.Record) hashInbox.poll();
    sink.consume(PAYMENTS.fromBytes(r.value()));
    sink.consume(Serdes.LONG.fromBytes(r.keyBytes()));
  }
}
