package io.stratus.kafka;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.kafka.embedded.EmbeddedKafka;
import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.api.StreamEnvironment;
import io.stratus.runtime.functions.DeadLetter;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.sink.CollectingSink;
import io.stratus.runtime.source.RateLimitedSource;
import io.stratus.runtime.windowing.TumblingWindows;
import io.stratus.scheduler.CheckpointConfig;
import io.stratus.scheduler.EmbeddedCluster;
import io.stratus.scheduler.JobController;
import io.stratus.scheduler.JobDefinition;
import io.stratus.scheduler.RestartStrategy;
import io.stratus.store.lsm.StoreOptions;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Kafka source in a job on a real broker: watermarks per partition merged in the task (with
 * one of three partitions empty, event-time windows fire when the strategy has an idleness
 * timeout, and wait without one, as in Flink), and records the serde rejects going to the
 * dead-letter sink while the job reads on.
 */
@ExtendWith(SharedKafka.class)
class KafkaSourceTest {

  /**
   * Record times start here: whole seconds, so that windows of one second start on the data's
   * first record, and recent, as the broker deletes records older than its retention (7 days).
   */
  private static final long T0 = System.currentTimeMillis() / 60_000 * 60_000 - 600_000;

  private static EmbeddedKafka kafka;

  @TempDir
  Path dir;

  private EmbeddedCluster cluster;

  @BeforeAll
  static void kafka(EmbeddedKafka shared) {
    kafka = shared;
  }

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @ParameterizedTest(name = "idleness {0}")
  @ValueSource(booleans = {true, false})
  void anEmptyPartitionHoldsWindowsBackUnlessItIsIdle(boolean idleness) throws Exception {
    String topic = "events-" + idleness;
    kafka.createTopics(3, topic);
    Properties p = new Properties();
    p.put("bootstrap.servers", kafka.bootstrapServers());
    p.put("key.serializer", StringSerializer.class.getName());
    p.put("value.serializer", StringSerializer.class.getName());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      // Partitions 0 and 1 hold 3.5 s of event time; partition 2 nothing.
      for (int i = 0; i < 36; i++) {
        producer.send(new ProducerRecord<>(topic, i % 2, T0 + i * 100L, "k", "x"));
      }
    }
    WatermarkStrategy strategy = WatermarkStrategy.forMonotonousTimestamps()
        .withEmitInterval(Duration.ofMillis(50));
    if (idleness) {
      strategy = strategy.withIdleness(Duration.ofMillis(500));
    }
    CollectingSink<String> windows = new CollectingSink<>();
    RuntimeConfig runtime = RuntimeConfig.defaults().withParallelism(1).withMaxParallelism(64)
        .withStoreOptions(StoreOptions.small().withMaxParallelism(64))
        .withLocalStateDirectory(dir.resolve("local"));
    StreamEnvironment env = StreamEnvironment.plan(runtime);
    env.fromSource(KafkaSource.builder(kafka.bootstrapServers(), Serdes.TEXT).topics(topic)
            .build(), strategy, "in", 1)
        .keyBy(x -> "all", Serdes.STRING)
        .window(TumblingWindows.ofEventTime(Duration.ofSeconds(1)))
        .reduce((a, b) -> a + b, Serdes.STRING, "per-second")
        .sinkTo(windows, "windows");
    cluster = new EmbeddedCluster(new LocalDirectoryObjectStore(dir.resolve("bucket")), 1,
        BlockCacheConfig.memoryOnly(8 << 20), Duration.ofMillis(100));
    cluster.catalog().register(new JobDefinition(env.graph("wm-" + idleness), runtime,
        CheckpointConfig.defaults(), RestartStrategy.fixedDelay(0, Duration.ofMillis(10))));
    JobController job = cluster.coordinator().submit("wm-" + idleness, null, Map.of());
    if (idleness) {
      // The watermark reaches T0 + 3.5 s: the windows of seconds 0, 1 and 2 fire.
      await().atMost(Duration.ofSeconds(30)).until(() -> windows.records().size() >= 3);
      assertEquals(List.of("x".repeat(10), "x".repeat(10), "x".repeat(10)),
          windows.records().subList(0, 3));
    } else {
      // Every record read (the source task's count), then long past the idleness the other
      // run used: nothing fires.
      await().atMost(Duration.ofSeconds(30)).until(() ->
          job.status().get(10, TimeUnit.SECONDS).tasks().stream()
              .filter(t -> t.operator().startsWith("in")).mapToLong(t -> t.records()).sum()
              == 36);
      Thread.sleep(3_000);
      assertEquals(List.of(), windows.records());
    }
    job.cancel().get(60, TimeUnit.SECONDS);
  }

  @Test
  void anUnreadableRecordGoesToTheDeadLettersAndTheJobReadsOn() throws Exception {
    String topic = "numbers";
    kafka.createTopics(1, topic);
    Properties p = new Properties();
    p.put("bootstrap.servers", kafka.bootstrapServers());
    p.put("key.serializer", ByteArraySerializer.class.getName());
    p.put("value.serializer", ByteArraySerializer.class.getName());
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
      for (long i = 0; i < 100; i++) {
        producer.send(new ProducerRecord<>(topic, i == 42 ? "not a number".getBytes(
            StandardCharsets.UTF_8) : Serdes.LONG.toBytes(i)));
      }
    }
    CollectingSink<Long> numbers = new CollectingSink<>();
    CollectingSink<DeadLetter<byte[]>> deadLetters = new CollectingSink<>();
    RuntimeConfig runtime = RuntimeConfig.defaults().withParallelism(1);
    StreamEnvironment env = StreamEnvironment.plan(runtime);
    env.fromSource(KafkaSource.builder(kafka.bootstrapServers(), Serdes.LONG).topics(topic)
            .build(), WatermarkStrategy.noWatermarks(), "numbers", 1)
        .deadLettersTo(deadLetters)
        .sinkTo(numbers, "out");
    cluster = new EmbeddedCluster(new LocalDirectoryObjectStore(dir.resolve("bucket")), 1,
        BlockCacheConfig.memoryOnly(8 << 20), Duration.ofMillis(100));
    cluster.catalog().register(new JobDefinition(env.graph("poison"), runtime,
        CheckpointConfig.defaults(), RestartStrategy.fixedDelay(0, Duration.ofMillis(10))));
    JobController job = cluster.coordinator().submit("poison", null, Map.of());
    await().atMost(Duration.ofSeconds(30)).until(() -> numbers.records().size() >= 99);
    List<Long> expected = new ArrayList<>();
    for (long i = 0; i < 100; i++) {
      if (i != 42) {
        expected.add(i);
      }
    }
    assertEquals(expected, numbers.records());
    assertEquals(1, deadLetters.records().size());
    DeadLetter<byte[]> dead = deadLetters.records().get(0);
    assertEquals("numbers-0@42", dead.key());
    assertEquals("not a number", new String(dead.record(), StandardCharsets.UTF_8));
    assertTrue(dead.error().contains("numbers-0@42"), dead.error());
    assertEquals(0, job.status().get(10, TimeUnit.SECONDS).restarts());
    job.cancel().get(60, TimeUnit.SECONDS);
  }

  @Test
  void lagPerPartitionIsAMetricThatFallsToZeroOnceTheJobCatchesUp() throws Exception {
    String topic = "lagging";
    kafka.createTopics(2, topic);
    Properties p = new Properties();
    p.put("bootstrap.servers", kafka.bootstrapServers());
    p.put("key.serializer", StringSerializer.class.getName());
    p.put("value.serializer", StringSerializer.class.getName());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      for (int i = 0; i < 3_000; i++) {
        producer.send(new ProducerRecord<>(topic, i % 2, null, "x"));
      }
    }
    CollectingSink<String> out = new CollectingSink<>();
    RuntimeConfig runtime = RuntimeConfig.defaults().withParallelism(1);
    StreamEnvironment env = StreamEnvironment.plan(runtime);
    // 1,000 records/s: the 3,000 take three seconds to read, so the lag shows.
    env.fromSource(new RateLimitedSource<>(KafkaSource.builder(kafka.bootstrapServers(),
            Serdes.TEXT).topics(topic).build(), 1_000), WatermarkStrategy.noWatermarks(),
            "lagging", 1)
        .sinkTo(out, "out");
    cluster = new EmbeddedCluster(new LocalDirectoryObjectStore(dir.resolve("bucket")), 1,
        BlockCacheConfig.memoryOnly(8 << 20), Duration.ofMillis(100));
    cluster.catalog().register(new JobDefinition(env.graph("lag"), runtime,
        CheckpointConfig.defaults(), RestartStrategy.fixedDelay(0, Duration.ofMillis(10))));
    JobController job = cluster.coordinator().submit("lag", null, Map.of());
    Pattern lag = Pattern.compile(
        "stratus_source_lag_records\\{[^}]*split=\"lagging-(\\d)\"[^}]*\\} (\\d+)");
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      Matcher m = lag.matcher(cluster.coordinator().metrics().render());
      return m.find() && Long.parseLong(m.group(2)) > 100;
    });
    assertTrue(cluster.coordinator().metrics().render().matches(
        "(?s).*stratus_source_lag_seconds\\{[^}]*split=\"lagging-\\d\"[^}]*\\} [0-9.]+.*"));
    await().atMost(Duration.ofSeconds(30)).until(() -> out.records().size() == 3_000);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      Matcher m = lag.matcher(cluster.coordinator().metrics().render());
      int partitions = 0;
      while (m.find()) {
        partitions++;
        assertEquals("0", m.group(2), "partition " + m.group(1));
      }
      assertEquals(2, partitions);
    });
    job.cancel().get(60, TimeUnit.SECONDS);
  }

  @Test
  void aPatternFindsTopicsAndPartitionsThatAppearWhileTheJobRuns() throws Exception {
    kafka.createTopics(2, "found-a");
    send("found-a", 0, 10, 0);
    CollectingSink<String> out = new CollectingSink<>();
    JobController job = run("pattern", KafkaSource.builder(kafka.bootstrapServers(), Serdes.TEXT)
        .topicPattern(Pattern.compile("found-.*")).partitionDiscovery(Duration.ofMillis(200))
        .build(), out);
    await().atMost(Duration.ofSeconds(30)).until(() -> out.records().size() == 10);
    // A new topic and a new partition of the first, both read from their beginning.
    kafka.createTopics(1, "found-b");
    send("found-b", 100, 5, 0);
    kafka.growTopic("found-a", 3);
    send("found-a", 200, 5, 2);
    await().atMost(Duration.ofSeconds(30)).until(() -> out.records().size() == 20);
    List<String> sorted = new ArrayList<>(out.records());
    sorted.sort(null);
    List<String> expected = new ArrayList<>();
    for (int i : new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 100, 101, 102, 103, 104, 200, 201, 202,
        203, 204}) {
      expected.add(String.valueOf(i));
    }
    expected.sort(null);
    assertEquals(expected, sorted);
    job.cancel().get(60, TimeUnit.SECONDS);
  }

  @Test
  void aFreshJobStartsAtATimestampOrAtTheGroupsCommittedOffsets() throws Exception {
    kafka.createTopics(1, "starts");
    send("starts", 0, 10, 0);
    CollectingSink<String> fromTime = new CollectingSink<>();
    // Record i has timestamp T0 + i s: from T0 + 6 s on are records 6..9.
    JobController timed = run("from-time", KafkaSource.builder(kafka.bootstrapServers(),
        Serdes.TEXT).topics("starts").startingOffsets(
            KafkaSource.StartingOffsets.timestamp(T0 + 6_000)).build(), fromTime);
    await().atMost(Duration.ofSeconds(30)).until(() -> fromTime.records().size() >= 4);
    assertEquals(List.of("6", "7", "8", "9"), fromTime.records());
    timed.cancel().get(60, TimeUnit.SECONDS);

    Properties p = new Properties();
    p.put("bootstrap.servers", kafka.bootstrapServers());
    p.put("group.id", "monitoring");
    p.put("key.deserializer", StringDeserializer.class.getName());
    p.put("value.deserializer", StringDeserializer.class.getName());
    try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
      c.commitSync(Map.of(new TopicPartition("starts", 0), new OffsetAndMetadata(3)));
    }
    CollectingSink<String> fromGroup = new CollectingSink<>();
    JobController grouped = run("from-group", KafkaSource.builder(kafka.bootstrapServers(),
        Serdes.TEXT).topics("starts").groupId("monitoring").startingOffsets(
            KafkaSource.StartingOffsets.committed(KafkaSource.StartingOffsets.earliest()))
        .build(), fromGroup);
    await().atMost(Duration.ofSeconds(30)).until(() -> fromGroup.records().size() >= 7);
    assertEquals(List.of("3", "4", "5", "6", "7", "8", "9"), fromGroup.records());
    grouped.cancel().get(60, TimeUnit.SECONDS);
  }

  /** Writes values first..first+count-1 to one partition, record i at T0 + i s. */
  private static void send(String topic, int first, int count, int partition) {
    Properties p = new Properties();
    p.put("bootstrap.servers", kafka.bootstrapServers());
    p.put("key.serializer", StringSerializer.class.getName());
    p.put("value.serializer", StringSerializer.class.getName());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      for (int i = 0; i < count; i++) {
        producer.send(new ProducerRecord<>(topic, partition, T0 + (first % 100 + i) * 1_000L,
            null, String.valueOf(first + i)));
      }
    }
  }

  /** Runs source → sink as job {@code name} on a one-worker cluster (one per test). */
  private JobController run(String name, KafkaSource<String> source, CollectingSink<String> out)
      throws Exception {
    RuntimeConfig runtime = RuntimeConfig.defaults().withParallelism(1);
    StreamEnvironment env = StreamEnvironment.plan(runtime);
    env.fromSource(source, WatermarkStrategy.noWatermarks(), "in", 1).sinkTo(out, "out");
    if (cluster == null) {
      cluster = new EmbeddedCluster(new LocalDirectoryObjectStore(dir.resolve("bucket")), 1,
          BlockCacheConfig.memoryOnly(8 << 20), Duration.ofMillis(100));
    }
    cluster.catalog().register(new JobDefinition(env.graph(name), runtime,
        CheckpointConfig.defaults(), RestartStrategy.fixedDelay(0, Duration.ofMillis(10))));
    return cluster.coordinator().submit(name, null, Map.of());
  }
}
