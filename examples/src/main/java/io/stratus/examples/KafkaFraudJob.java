package io.stratus.examples;

import io.stratus.kafka.KafkaSink;
import io.stratus.kafka.KafkaSource;
import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.api.StreamEnvironment;
import io.stratus.runtime.functions.Collector;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.source.Payment;
import io.stratus.runtime.state.StateDescriptor;
import io.stratus.runtime.state.ValueState;
import io.stratus.scheduler.CheckpointConfig;
import io.stratus.scheduler.JobDefinition;
import io.stratus.scheduler.JobFactory;
import io.stratus.scheduler.RestartStrategy;
import java.time.Duration;
import java.util.Map;

/**
 * Fraud detection from Kafka to Kafka: payments (text lines {@code id,card,cents,merchant,ms})
 * from topic {@value #PAYMENTS}, a profile per card, and an alert line
 * {@code card,cents,average} to topic {@value #ALERTS} for a payment five times the card's
 * average after at least five payments. Exactly once: alerts become visible to
 * {@code read_committed} readers when their checkpoint completes ({@code ./stratus demo
 * --kafka} runs it against an embedded broker).
 */
public final class KafkaFraudJob implements JobFactory {

  static final String NAME = "kafka-fraud";
  static final String OPERATOR = "fraud-check";
  static final String SOURCE = "payments";
  static final String PAYMENTS = "payments";
  static final String ALERTS = "alerts";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "fraud alerts from a Kafka topic of payments to a topic of alerts, exactly once";
  }

  @Override
  public Map<String, String> parameters() {
    return Map.of("bootstrap", "the Kafka brokers (host:port,...; required)");
  }

  @Override
  public JobDefinition create(Context context) {
    String bootstrap = context.get("bootstrap", null);
    if (bootstrap == null || bootstrap.isBlank()) {
      throw new IllegalArgumentException("job " + NAME + " needs the parameter bootstrap "
          + "(the Kafka brokers, host:port)");
    }
    if (context.objects() == null) {
      throw new IllegalArgumentException("job " + NAME + " needs the cluster's bucket to stage "
          + "its exactly-once output");
    }
    RuntimeConfig runtime = RuntimeConfig.defaults().withParallelism(2).withMaxParallelism(128);
    StreamEnvironment env = StreamEnvironment.plan(runtime);
    env.fromSource(KafkaSource.builder(bootstrap, Serdes.TEXT).topics(PAYMENTS).groupId(NAME)
                .build(), WatermarkStrategy.noWatermarks(), SOURCE, 2)
        .map(KafkaFraudJob::parse)
        .returns(Serdes.record(Payment.class))
        .keyBy(Payment::userId, Serdes.LONG)
        .process(new FraudCheck(), OPERATOR)
        .sinkTo(KafkaSink.builder(bootstrap, Serdes.TEXT).topic(ALERTS)
            .key(line -> line.substring(0, line.indexOf(',')), Serdes.TEXT)
            .exactlyOnce(NAME, context.objects(), "kafka-staging").build(), ALERTS);
    return new JobDefinition(env.graph(NAME), runtime,
        CheckpointConfig.defaults().withInterval(Duration.ofSeconds(2)),
        RestartStrategy.exponentialBackoff(10, Duration.ofMillis(200), Duration.ofSeconds(10)));
  }

  /** A payment as the demo writes it to Kafka. */
  static String format(Payment p) {
    return p.id() + "," + p.userId() + "," + p.amountCents() + "," + p.merchant() + ","
        + p.timestamp();
  }

  static Payment parse(String line) {
    String[] f = line.split(",", 5);
    if (f.length != 5) {
      throw new IllegalArgumentException("not a payment (id,card,cents,merchant,ms): " + line);
    }
    return new Payment(Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2]), f[3],
        Long.parseLong(f[4]));
  }

  /** Per card: payments and their sum; alerts on one far above the card's average. */
  static final class FraudCheck extends KeyedProcessFunction<Long, Payment, String> {
    private transient ValueState<long[]> profile;

    @Override
    public void open(OpenContext context) {
      profile = context.state(new StateDescriptor.Value<>("profile", Serdes.LONG_ARRAY));
    }

    @Override
    public void processElement(Payment p, Context<Long> context, Collector<String> out) {
      profile.value().thenAccept(old -> {
        long count = old == null ? 0 : old[0];
        long sum = old == null ? 0 : old[1];
        if (count >= 5 && p.amountCents() > 5 * (sum / count)) {
          out.collect(p.userId() + "," + p.amountCents() + "," + sum / count);
        }
        profile.update(new long[] {count + 1, sum + p.amountCents()});
      });
    }
  }
}
