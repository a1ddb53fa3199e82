package io.stratus.examples;

import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.api.StreamEnvironment;
import io.stratus.runtime.functions.Collector;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.serde.Serde;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.sink.DiscardingSink;
import io.stratus.runtime.source.Payment;
import io.stratus.runtime.source.PaymentGenerator;
import io.stratus.runtime.state.StateDescriptor;
import io.stratus.runtime.state.ValueState;
import io.stratus.scheduler.CheckpointConfig;
import io.stratus.scheduler.JobDefinition;
import io.stratus.scheduler.RestartStrategy;
import io.stratus.scheduler.JobFactory;
import java.time.Duration;
import java.util.Map;

/**
 * The demo's job: a profile per card holder (payment count, total, largest payment, last
 * amounts and merchant, activity per hour of the week) over a generated payment stream, so its
 * state grows to hundreds of MiB. It checkpoints every 5 s.
 */
public final class CardProfilesJob implements JobFactory {

  static final String NAME = "card-profiles";
  static final String OPERATOR = "profiles";
  static final long DEFAULT_USERS = 3_000_000;

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "a profile per card holder over an endless generated payment stream (the demo)";
  }

  @Override
  public Map<String, String> parameters() {
    return Map.of("users", "distinct card holders (default " + DEFAULT_USERS + ")");
  }

  @Override
  public JobDefinition create(Context context) {
    return definition(context.getLong("users", DEFAULT_USERS, 1));
  }

  /**
   * What the job keeps per card holder (the features a fraud check would read).
   *
   * @param payments       how many
   * @param totalCents     their sum
   * @param largestCents   the largest
   * @param previousCents  the amount of the one before the last
   * @param lastCents      the amount of the last
   * @param lastMerchant   where the last one went
   * @param hourOfWeek     payments per hour of the week (168 saturating one-byte counters)
   */
  public record Profile(long payments, long totalCents, long largestCents, long previousCents,
      long lastCents, String lastMerchant, byte[] hourOfWeek) {}

  /** Updates the card holder's profile with each payment. */
  static final class UpdateProfile extends KeyedProcessFunction<Long, Payment, Long> {
    private static final Serde<Profile> SERDE = Serdes.record(Profile.class);
    private transient ValueState<Profile> profile;

    @Override
    public void open(OpenContext context) {
      profile = context.state(new StateDescriptor.Value<>("profile", SERDE));
    }

    @Override
    public void processElement(Payment p, Context<Long> context, Collector<Long> out) {
      profile.value().thenAccept(old -> {
        byte[] hours = old == null ? new byte[168] : old.hourOfWeek();
        int hour = (int) ((p.timestamp() / 3_600_000L) % 168);
        if (hours[hour] != Byte.MAX_VALUE) {
          hours[hour]++;
        }
        profile.update(old == null
            ? new Profile(1, p.amountCents(), p.amountCents(), 0, p.amountCents(), p.merchant(),
                hours)
            : new Profile(old.payments() + 1, old.totalCents() + p.amountCents(),
                Math.max(old.largestCents(), p.amountCents()), old.lastCents(), p.amountCents(),
                p.merchant(), hours));
      });
    }
  }

  /** The job over {@code users} card holders, at parallelism 2 with 128 key groups. */
  static JobDefinition definition(long users) {
    RuntimeConfig runtime = RuntimeConfig.defaults().withParallelism(2).withMaxParallelism(128);
    StreamEnvironment env = StreamEnvironment.plan(runtime);
    env.fromSource(new PaymentGenerator(42, users, Long.MAX_VALUE, 1000, 0, 0),
            WatermarkStrategy.noWatermarks(), "payments", 1)
        .keyBy(Payment::userId, Serdes.LONG)
        .process(new UpdateProfile(), OPERATOR)
        .sinkTo(new DiscardingSink<>());
    return new JobDefinition(env.graph(NAME), runtime,
        CheckpointConfig.defaults().withInterval(Duration.ofSeconds(5)),
        RestartStrategy.exponentialBackoff(10, Duration.ofMillis(200), Duration.ofSeconds(10)));
  }
}
