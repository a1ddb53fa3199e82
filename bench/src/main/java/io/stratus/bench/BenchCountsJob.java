package io.stratus.bench;

import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.api.StreamEnvironment;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.sink.DiscardingSink;
import io.stratus.runtime.source.Payment;
import io.stratus.scheduler.CheckpointConfig;
import io.stratus.scheduler.JobDefinition;
import io.stratus.scheduler.JobFactory;
import io.stratus.scheduler.RestartStrategy;
import io.stratus.store.lsm.StoreOptions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The job of {@link JobCheckpointBenchmark} (a 100-byte counter per user at a fixed rate) as a
 * job the cluster's processes find by name, for {@link ClusterFailoverBenchmark}: it starts from
 * a savepoint whose state {@link StatePreloader} built.
 */
public final class BenchCountsJob implements JobFactory {

  static final String NAME = "bench-counts";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "benchmark: a 100-byte counter per user, payments at a fixed rate";
  }

  @Override
  public Map<String, String> parameters() {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("users", "distinct users, the preloaded keys (default 1000000)");
    p.put("rate", "payments per second (default 5000)");
    p.put("checkpoint-ms", "checkpoint interval (default 1000)");
    return p;
  }

  @Override
  public JobDefinition create(Context context) {
    long users = context.getLong("users", 1_000_000, 1);
    long rate = context.getLong("rate", 5_000, 1);
    long interval = context.getLong("checkpoint-ms", 1_000, 50);
    RuntimeConfig runtime = runtime();
    StreamEnvironment env = StreamEnvironment.plan(runtime);
    env.fromSource(JobCheckpointBenchmark.payments(users, rate), WatermarkStrategy.noWatermarks(),
            "payments", 1)
        .returns(Serdes.record(Payment.class))
        .keyBy(Payment::userId, Serdes.LONG)
        .process(new JobCheckpointBenchmark.CountPerUser(), JobCheckpointBenchmark.OPERATOR)
        .sinkTo(new DiscardingSink<>());
    return new JobDefinition(env.graph(NAME), runtime,
        CheckpointConfig.defaults().withInterval(Duration.ofMillis(interval))
            .withTimeout(Duration.ofSeconds(60)).withRetained(3),
        RestartStrategy.fixedDelay(1_000, Duration.ZERO));
  }

  /** Two keyed tasks over 128 key groups on the disaggregated store. */
  static RuntimeConfig runtime() {
    return RuntimeConfig.defaults().withParallelism(2)
        .withMaxParallelism(JobCheckpointBenchmark.MAX_PARALLELISM)
        .withStoreOptions(StoreOptions.defaults()
            .withMaxParallelism(JobCheckpointBenchmark.MAX_PARALLELISM));
  }
}
