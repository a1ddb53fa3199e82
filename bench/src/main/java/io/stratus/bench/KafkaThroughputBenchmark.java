package io.stratus.bench;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.kafka.KafkaSink;
import io.stratus.kafka.KafkaSource;
import io.stratus.kafka.embedded.EmbeddedKafka;
import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.api.StreamEnvironment;
import io.stratus.runtime.functions.Collector;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.state.StateDescriptor;
import io.stratus.runtime.state.ValueState;
import io.stratus.scheduler.CheckpointConfig;
import io.stratus.scheduler.EmbeddedCluster;
import io.stratus.scheduler.JobController;
import io.stratus.scheduler.JobDefinition;
import io.stratus.scheduler.RestartStrategy;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.ObjectStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * {@code bench/run kafka}: records/s of Kafka → keyed update → Kafka with the sink at least once
 * and exactly once, rounds alternating the order. One JVM holds the broker (in-process KRaft),
 * two workers and a {@code read_committed} reader of the output, as they share this machine's
 * two cores either way. Each run reads a fresh input topic filled beforehand (4 partitions,
 * {@code --records} lines {@code user,seq} over {@code --users} keys), counts per user, and
 * writes {@code user,count} to a fresh output topic; the time is from the job's start until the
 * reader has seen every output record (exactly once: once their checkpoints completed, every
 * second).
 */
public final class KafkaThroughputBenchmark {

  private KafkaThroughputBenchmark() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = BenchArgs.parse(args);
    boolean quick = Boolean.parseBoolean(a.getOrDefault("--quick", "false"));
    int records = Integer.parseInt(a.getOrDefault("--records", quick ? "200000" : "1000000"));
    int users = Integer.parseInt(a.getOrDefault("--users", "100000"));
    int rounds = Integer.parseInt(a.getOrDefault("--rounds", quick ? "1" : "3"));
    BenchReport report = new BenchReport("kafka", quick);
    report.config("records", records).config("users", users).config("rounds", rounds)
        .config("partitions", 4).config("parallelism", 2).config("checkpointMillis", 1000);
    List<Double> ratios = new ArrayList<>();
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      int run = 0;
      for (int r = 1; r <= rounds; r++) {
        Map<String, Double> perMode = new LinkedHashMap<>();
        for (String mode : r % 2 == 1 ? List.of("at-least-once", "exactly-once")
            : List.of("exactly-once", "at-least-once")) {
          run++;
          String in = "in-" + run;
          String out = "out-" + run;
          kafka.createTopics(4, in, out);
          fill(kafka, in, records, users);
          Path dir = Files.createTempDirectory("kafka-bench-");
          double perSecond = run(kafka, mode, in, out, records, dir);
          Directories.deleteRecursively(dir);
          Map<String, Object> row = new LinkedHashMap<>();
          row.put("sink", mode);
          row.put("round", r);
          row.put("recordsPerSecond", perSecond);
          report.row(row);
          perMode.put(mode, perSecond);
          System.out.printf("round %d %s: %.0f records/s%n", r, mode, perSecond);
        }
        ratios.add(perMode.get("exactly-once") / perMode.get("at-least-once"));
      }
    }
    double[] mmm = BenchReport.minMedianMax(ratios);
    report.note(String.format("exactly-once / at-least-once records/s per round: median %.2f "
        + "(min %.2f, max %.2f), rounds %s", mmm[1], mmm[0], mmm[2], ratios));
    report.barChart("recordsPerSecond", "sink");
    System.out.println("wrote " + report.write());
  }

  private static void fill(EmbeddedKafka kafka, String topic, int records, int users) {
    Properties p = new Properties();
    p.put("bootstrap.servers", kafka.bootstrapServers());
    p.put("key.serializer", StringSerializer.class.getName());
    p.put("value.serializer", StringSerializer.class.getName());
    p.put("linger.ms", "20");
    // Setup, not the measured path: plain acks=1 writes (an idempotent producer filling a
    // million records as fast as it can on this machine hit the broker's sequence checks).
    p.put("enable.idempotence", "false");
    p.put("acks", "1");
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      for (int i = 0; i < records; i++) {
        String user = "u" + (i * 7919L % users);
        producer.send(new ProducerRecord<>(topic, user, user + "," + i));
      }
    }
  }

  /** Counts per user, emitting {@code user,count}. */
  static final class Count extends KeyedProcessFunction<String, String, String> {
    private transient ValueState<Long> count;

    @Override
    public void open(OpenContext context) {
      count = context.state(new StateDescriptor.Value<>("count", Serdes.LONG));
    }

    @Override
    public void processElement(String line, Context<String> context, Collector<String> out) {
      count.value().thenAccept(old -> {
        long n = old == null ? 1 : old + 1;
        count.update(n);
        out.collect(context.currentKey() + "," + n);
      });
    }
  }

  private static double run(EmbeddedKafka kafka, String mode, String in, String out,
      int records, Path dir) throws Exception {
    ObjectStore objects = new LocalDirectoryObjectStore(dir.resolve("bucket"));
    RuntimeConfig runtime = RuntimeConfig.defaults().withParallelism(2).withMaxParallelism(128)
        .withLocalStateDirectory(dir.resolve("local"));
    StreamEnvironment env = StreamEnvironment.plan(runtime);
    KafkaSink.Builder<String> sink = KafkaSink.builder(kafka.bootstrapServers(), Serdes.TEXT)
        .topic(out).key(line -> line.substring(0, line.indexOf(',')), Serdes.TEXT);
    if (mode.equals("exactly-once")) {
      sink.exactlyOnce("bench-" + out, objects, "kafka-staging");
    }
    env.fromSource(KafkaSource.builder(kafka.bootstrapServers(), Serdes.TEXT).topics(in)
            .build(), WatermarkStrategy.noWatermarks(), "in", 2)
        .keyBy(line -> line.substring(0, line.indexOf(',')), Serdes.STRING)
        .process(new Count(), "counts")
        .sinkTo(sink.build(), "out");
    try (EmbeddedCluster cluster = new EmbeddedCluster(objects, 2,
        BlockCacheConfig.memoryOnly(256 << 20), Duration.ofSeconds(1))) {
      cluster.catalog().register(new JobDefinition(env.graph("kafka-" + mode), runtime,
          CheckpointConfig.defaults().withInterval(Duration.ofSeconds(1)),
          RestartStrategy.fixedDelay(0, Duration.ofMillis(10))));
      long start = System.nanoTime();
      JobController job = cluster.coordinator().submit("kafka-" + mode, null, Map.of());
      awaitRecords(kafka, out, records, job);
      double seconds = (System.nanoTime() - start) / 1e9;
      if (job.status().get(10, TimeUnit.SECONDS).restarts() > 0) {
        throw new IllegalStateException(mode + " run restarted: " + job.status().get());
      }
      job.cancel().get(2, TimeUnit.MINUTES);
      return records / seconds;
    }
  }

  /** Reads {@code topic} read_committed until {@code records} arrived. */
  private static void awaitRecords(EmbeddedKafka kafka, String topic, int records,
      JobController job) {
    try (KafkaConsumer<String, String> consumer = kafka.readCommittedFromStart(topic)) {
      long seen = 0;
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(20);
      while (seen < records) {
        if (job.result().isDone()) {
          throw new IllegalStateException("the job ended with " + seen + " of " + records
              + " records in " + topic + ": " + job.result().join());
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("only " + seen + " of " + records + " records in "
              + topic + " after 20 minutes");
        }
        seen += consumer.poll(Duration.ofMillis(100)).count();
      }
    }
  }
}
