package io.stratus.examples;

import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.api.StreamEnvironment;
import io.stratus.runtime.functions.Collector;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.sink.TransactionalFileSink;
import io.stratus.runtime.source.Payment;
import io.stratus.runtime.source.PaymentGenerator;
import io.stratus.runtime.source.RateLimitedSource;
import io.stratus.runtime.source.SourceReader;
import io.stratus.runtime.source.SourceRecord;
import io.stratus.runtime.state.StateDescriptor;
import io.stratus.runtime.state.ValueState;
import io.stratus.scheduler.CheckpointConfig;
import io.stratus.scheduler.JobDefinition;
import io.stratus.scheduler.JobFactory;
import io.stratus.scheduler.RestartStrategy;
import io.stratus.store.objectstore.ObjectStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A bounded job with exactly-once output: a running count and sum per card holder over a
 * generated payment stream, one line {@code user,count,sum} per payment, written to the bucket
 * under {@code out/payment-totals/} by a transactional file sink (visible only once a
 * checkpoint completes). Its output depends only on its parameters, whatever failures,
 * restarts and rescales happen on the way: the multi-process tests compare it with
 * {@link #expectedOutput}.
 */
public final class PaymentTotalsJob implements JobFactory {

  public static final String NAME = "payment-totals";
  public static final String OPERATOR = "totals";
  /** Where the output goes in the bucket. */
  public static final String OUTPUT = "out/" + NAME;

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "running count and sum per card holder over N generated payments, exactly-once "
        + "into " + OUTPUT + "/ in the bucket";
  }

  @Override
  public Map<String, String> parameters() {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("events", "payments in the stream (default 1000000)");
    p.put("rate", "payments per second at most, 0 for no limit (default 20000)");
    p.put("users", "distinct card holders (default 2000)");
    p.put("checkpoint-ms", "checkpoint interval in milliseconds (default 1000)");
    return p;
  }

  @Override
  public JobDefinition create(Context context) {
    long events = context.getLong("events", 1_000_000, 0);
    long rate = context.getLong("rate", 20_000, 0);
    long users = context.getLong("users", 2_000, 1);
    long checkpointMillis = context.getLong("checkpoint-ms", 1_000, 50);
    if (context.objects() == null) {
      throw new IllegalArgumentException("job " + NAME + " needs the cluster's bucket for its "
          + "output");
    }
    RuntimeConfig runtime = RuntimeConfig.defaults().withParallelism(2).withMaxParallelism(64);
    StreamEnvironment env = StreamEnvironment.plan(runtime);
    env.fromSource(rate == 0 ? source(events, users)
                : new RateLimitedSource<>(source(events, users), rate),
            WatermarkStrategy.noWatermarks(), "payments", 1)
        .returns(Serdes.record(Payment.class))
        .keyBy(Payment::userId, Serdes.LONG)
        .process(new RunningTotals(), OPERATOR)
        .sinkTo(sink(context.objects()));
    return new JobDefinition(env.graph(NAME), runtime,
        CheckpointConfig.defaults().withInterval(Duration.ofMillis(checkpointMillis))
            .withRetained(2),
        RestartStrategy.fixedDelay(1_000, Duration.ofMillis(50)));
  }

  /** Counts payments and sums amounts per user; emits {@code user,count,sum} per payment. */
  static final class RunningTotals extends KeyedProcessFunction<Long, Payment, String> {
    private transient ValueState<long[]> totals;

    @Override
    public void open(OpenContext context) {
      totals = context.state(new StateDescriptor.Value<>("totals", Serdes.LONG_ARRAY));
    }

    @Override
    public void processElement(Payment p, Context<Long> context, Collector<String> out) {
      totals.value().thenAccept(old -> {
        long count = old == null ? 1 : old[0] + 1;
        long sum = (old == null ? 0 : old[1]) + p.amountCents();
        totals.update(new long[] {count, sum});
        out.collect(p.userId() + "," + count + "," + sum);
      });
    }
  }

  private static PaymentGenerator source(long events, long users) {
    return new PaymentGenerator(11, users, events, 1000, 0, 0);
  }

  private static TransactionalFileSink<String> sink(ObjectStore objects) {
    return new TransactionalFileSink<>(objects, OUTPUT, line -> line);
  }

  /** The output a correct run commits, computed straight from the stream, sorted. */
  public static List<String> expectedOutput(long events, long users) {
    SourceReader<Payment> reader = source(events, users).createReader(0, 1);
    Map<Long, long[]> totals = new HashMap<>();
    List<String> out = new ArrayList<>();
    for (List<SourceRecord<Payment>> batch = reader.poll(4096); batch != null;
        batch = reader.poll(4096)) {
      for (SourceRecord<Payment> r : batch) {
        Payment p = r.value();
        long[] t = totals.computeIfAbsent(p.userId(), k -> new long[2]);
        t[0]++;
        t[1] += p.amountCents();
        out.add(p.userId() + "," + t[0] + "," + t[1]);
      }
    }
    out.sort(null);
    return out;
  }

  /** What the job committed to {@code objects} so far, sorted. */
  public static List<String> committedOutput(ObjectStore objects) {
    List<String> out = new ArrayList<>(sink(objects).readCommitted());
    out.sort(null);
    return out;
  }
}
