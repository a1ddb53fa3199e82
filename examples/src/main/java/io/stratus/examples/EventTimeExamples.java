package io.stratus.examples;

import io.stratus.runtime.api.DataStream;
import io.stratus.runtime.api.ProcessedStream;
import io.stratus.runtime.functions.Collector;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.functions.OutputTag;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.source.Payment;
import io.stratus.runtime.state.Aggregator;
import io.stratus.runtime.state.StateDescriptor;
import io.stratus.runtime.state.StateTtlConfig;
import io.stratus.runtime.state.ValueState;
import io.stratus.runtime.windowing.ProcessWindowFunction;
import io.stratus.runtime.windowing.SessionWindows;
import io.stratus.runtime.windowing.TumblingWindows;
import java.time.Duration;

/**
 * The event-time examples of {@code docs/event-time.md}, as code that compiles and is tested
 * ({@code EventTimeExamplesTest}): hourly billing per user, deduplication by event id with a
 * TTL, and sessions with a 30-minute gap. Each takes a stream of payments with event
 * timestamps and returns the operator's output, for the caller to send to a sink.
 */
public final class EventTimeExamples {

  /** Payments that arrive after their hour was billed (and 10 minutes of lateness). */
  public static final OutputTag<Payment> LATE_PAYMENTS = new OutputTag<>("late-payments");

  private EventTimeExamples() {}

  /**
   * Hourly billing: per user and hour of event time, {@code user,hourStart,payments,cents}.
   * Payments up to 10 minutes late correct the hour's bill (it is emitted again); later ones go
   * to {@link #LATE_PAYMENTS}.
   */
  public static ProcessedStream<String> hourlyBilling(DataStream<Payment> payments) {
    return payments.keyBy(Payment::userId, Serdes.LONG)
        .window(TumblingWindows.ofEventTime(Duration.ofHours(1)))
        .allowedLateness(Duration.ofMinutes(10))
        .sideOutputLateData(LATE_PAYMENTS)
        .aggregate(new CountAndSum(), Serdes.LONG_ARRAY, new Bill(), "hourly-billing");
  }

  /** Payment count and total, kept incrementally per window. */
  static final class CountAndSum implements Aggregator<Payment, long[], long[]> {
    @Override
    public long[] createAccumulator() {
      return new long[2];
    }

    @Override
    public long[] add(Payment p, long[] acc) {
      return new long[] {acc[0] + 1, acc[1] + p.amountCents()};
    }

    @Override
    public long[] getResult(long[] acc) {
      return acc;
    }

    @Override
    public long[] merge(long[] a, long[] b) {
      return new long[] {a[0] + b[0], a[1] + b[1]};
    }
  }

  /** One bill line per user and hour. */
  static final class Bill extends ProcessWindowFunction<long[], String, Long> {
    @Override
    public void process(Long user, Context context, Iterable<long[]> totals,
        Collector<String> out) {
      long[] t = totals.iterator().next();
      out.collect(user + "," + context.window().start() + "," + t[0] + "," + t[1]);
    }
  }

  /**
   * Deduplication: a payment id seen in the last {@code ttl} is dropped. The "seen" flag lives
   * in keyed state with a time to live, so the state does not grow with the stream.
   */
  public static ProcessedStream<Payment> deduplicate(DataStream<Payment> payments,
      Duration ttl) {
    return payments.keyBy(Payment::id, Serdes.LONG).process(new FirstSeen(ttl), "dedup");
  }

  /** Passes the first payment of each id on. */
  static final class FirstSeen extends KeyedProcessFunction<Long, Payment, Payment> {
    private final Duration ttl;
    private transient ValueState<Boolean> seen;

    FirstSeen(Duration ttl) {
      this.ttl = ttl;
    }

    @Override
    public void open(OpenContext context) {
      StateDescriptor.Value<Boolean> descriptor =
          new StateDescriptor.Value<>("seen", Serdes.BOOLEAN);
      descriptor.enableTimeToLive(StateTtlConfig.afterWrite(ttl));
      seen = context.state(descriptor);
    }

    @Override
    public void processElement(Payment p, Context<Long> context, Collector<Payment> out) {
      seen.value().thenAccept(before -> {
        if (before == null) {
          seen.update(true);
          out.collect(p);
        }
      });
    }
  }

  /**
   * Sessions: a user's payments with less than 30 minutes between them form one session;
   * {@code user,sessionStart,sessionEnd,payments} when it closes (30 minutes after its last
   * payment, in event time).
   */
  public static ProcessedStream<String> sessions(DataStream<Payment> payments) {
    return payments.keyBy(Payment::userId, Serdes.LONG)
        .window(SessionWindows.ofEventTime(Duration.ofMinutes(30)))
        .aggregate(new CountAndSum(), Serdes.LONG_ARRAY, new SessionLine(), "sessions");
  }

  /** One line per session. */
  static final class SessionLine extends ProcessWindowFunction<long[], String, Long> {
    @Override
    public void process(Long user, Context context, Iterable<long[]> totals,
        Collector<String> out) {
      long[] t = totals.iterator().next();
      out.collect(user + "," + context.window().start() + "," + context.window().end() + ","
          + t[0]);
    }
  }
}
