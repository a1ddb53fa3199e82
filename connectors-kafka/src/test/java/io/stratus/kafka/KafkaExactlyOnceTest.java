package io.stratus.kafka;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.cache.BlockCacheConfig;
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
import io.stratus.scheduler.JobState;
import io.stratus.scheduler.JobStatus;
import io.stratus.scheduler.RestartStrategy;
import io.stratus.store.lsm.StoreOptions;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.ObjectStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka → keyed state → Kafka against a real (in-process) broker: with injected failures and
 * rescales that change the source's parallelism too, a {@code read_committed} consumer of the
 * output sees every record of a failure-free run exactly once.
 */
@ExtendWith(SharedKafka.class)
class KafkaExactlyOnceTest {

  private static final int USERS = 200;

  private static EmbeddedKafka kafka;

  /** Records processed across attempts and the counts at which the function throws. */
  static final AtomicLong PROCESSED = new AtomicLong();
  static volatile long failAt = -1;

  @TempDir
  Path dir;

  private EmbeddedCluster cluster;

  @BeforeAll
  static void kafka(EmbeddedKafka shared) {
    kafka = shared;
  }

  @AfterEach
  void stop() {
    failAt = -1;
    if (cluster != null) {
      cluster.close();
    }
  }

  /** A running count per user: emits {@code user,count} for each of the user's records. */
  static final class Count extends KeyedProcessFunction<String, String, String> {
    private transient ValueState<Long> count;

    @Override
    public void open(OpenContext context) {
      count = context.state(new StateDescriptor.Value<>("count", Serdes.LONG));
    }

    @Override
    public void processElement(String line, Context<String> context, Collector<String> out) {
      if (PROCESSED.incrementAndGet() == failAt) {
        throw new IllegalStateException("injected failure");
      }
      count.value().thenAccept(old -> {
        long n = old == null ? 1 : old + 1;
        count.update(n);
        out.collect(context.currentKey() + "," + n);
      });
    }
  }

  private JobDefinition job(String name, ObjectStore objects, String in, String out) {
    RuntimeConfig runtime = RuntimeConfig.defaults().withParallelism(2).withMaxParallelism(64)
        .withStoreOptions(StoreOptions.small().withMaxParallelism(64))
        .withLocalStateDirectory(dir.resolve("local"));
    StreamEnvironment env = StreamEnvironment.plan(runtime);
    env.fromSource(KafkaSource.builder(kafka.bootstrapServers(), Serdes.TEXT).topics(in)
                .groupId(name).partitionDiscovery(Duration.ofSeconds(1)).build(),
            WatermarkStrategy.noWatermarks(), "in", 2)
        .keyBy(line -> line.substring(0, line.indexOf(',')), Serdes.STRING)
        .process(new Count(), "counts")
        .sinkTo(KafkaSink.builder(kafka.bootstrapServers(), Serdes.TEXT).topic(out)
            .key(line -> line.substring(0, line.indexOf(',')), Serdes.TEXT)
            .exactlyOnce(name, objects, "kafka-staging").build(), "out");
    return new JobDefinition(env.graph(name), runtime,
        CheckpointConfig.defaults().withInterval(Duration.ofMillis(200)).withRetained(2),
        RestartStrategy.fixedDelay(100, Duration.ofMillis(50)));
  }

  @Test
  void outputWithFailuresAndRescalesIsExactlyTheFailureFreeOutput() throws Exception {
    kafka.createTopics(4, "payments-in");
    kafka.createTopics(3, "counts-out");
    ObjectStore objects = new LocalDirectoryObjectStore(dir.resolve("bucket"));
    cluster = new EmbeddedCluster(objects, 2, BlockCacheConfig.memoryOnly(8 << 20),
        Duration.ofMillis(100));
    cluster.catalog().register(job("eo", objects, "payments-in", "counts-out"));
    JobController job = cluster.coordinator().submit("eo", null, Map.of());

    long seed = System.nanoTime();
    Random random = new Random(seed);
    int injected = 0;
    int rescales = 0;
    List<Map<String, Integer>> targets = List.of(Map.of("counts", 3, "in", 3),
        Map.of("counts", 1, "in", 1));
    Map<String, Integer> perUser;
    try (InputWriter input = new InputWriter("payments-in")) {
      long checkpointBefore = 0;
      while (injected < 10 || rescales < 2) {
        // Each fault waits for a checkpoint after the last one: recoveries restore from
        // checkpoints, with output published and offsets moved on, not from the beginning.
        JobStatus now = job.status().get(10, TimeUnit.SECONDS);
        long newest = now.checkpoints().isEmpty() ? 0
            : now.checkpoints().get(now.checkpoints().size() - 1).id();
        if (now.state() != JobState.RUNNING || newest <= checkpointBefore) {
          Thread.sleep(20);
          continue;
        }
        checkpointBefore = newest;
        if (injected >= 4 * (rescales + 1) && rescales < 2) {
          job.rescale(targets.get(rescales)).get(60, TimeUnit.SECONDS);
          rescales++;
          continue;
        }
        int restartsBefore = now.restarts();
        failAt = PROCESSED.get() + 1 + random.nextInt(500);
        injected++;
        await().atMost(Duration.ofSeconds(30)).until(() ->
            job.status().get(10, TimeUnit.SECONDS).restarts() > restartsBefore);
      }
      perUser = input.stop();
    }
    assertExactly(perUser, readCommitted("counts-out",
        perUser.values().stream().mapToInt(Integer::intValue).sum()), "seed " + seed);
    JobStatus status = job.status().get(10, TimeUnit.SECONDS);
    assertTrue(status.restarts() >= 10, "seed " + seed + ": " + status);
    job.cancel().get(60, TimeUnit.SECONDS);
  }

  @Test
  void aBrokerRestartLosesAndDuplicatesNothing() throws Exception {
    kafka.createTopics(3, "restart-in", "restart-out");
    ObjectStore objects = new LocalDirectoryObjectStore(dir.resolve("bucket"));
    cluster = new EmbeddedCluster(objects, 2, BlockCacheConfig.memoryOnly(8 << 20),
        Duration.ofMillis(100));
    cluster.catalog().register(job("restart", objects, "restart-in", "restart-out"));
    JobController job = cluster.coordinator().submit("restart", null, Map.of());
    Map<String, Integer> perUser;
    try (InputWriter input = new InputWriter("restart-in")) {
      long before = awaitCheckpointAfter(job, 0);
      kafka.stopBroker();
      Thread.sleep(3_000);
      kafka.startBroker();
      // The job goes on (or restarts) and completes checkpoints again with the broker back.
      awaitCheckpointAfter(job, awaitCheckpointAfter(job, before));
      perUser = input.stop();
    }
    assertExactly(perUser, readCommitted("restart-out",
        perUser.values().stream().mapToInt(Integer::intValue).sum()), "broker restart");
    job.cancel().get(60, TimeUnit.SECONDS);
  }

  /** The id of a checkpoint completed after checkpoint {@code id}, once there is one. */
  private static long awaitCheckpointAfter(JobController job, long id) {
    long[] newest = new long[1];
    await().atMost(Duration.ofSeconds(120)).until(() -> {
      JobStatus s = job.status().get(10, TimeUnit.SECONDS);
      newest[0] = s.checkpoints().isEmpty() ? 0
          : s.checkpoints().get(s.checkpoints().size() - 1).id();
      return newest[0] > id;
    });
    return newest[0];
  }

  /** The output holds, for each user, the counts 1..n of its n input records, once each. */
  private static void assertExactly(Map<String, Integer> perUser, List<String> output,
      String what) {
    int records = perUser.values().stream().mapToInt(Integer::intValue).sum();
    Map<String, List<Long>> seen = new HashMap<>();
    for (String line : output) {
      int comma = line.indexOf(',');
      seen.computeIfAbsent(line.substring(0, comma), k -> new ArrayList<>())
          .add(Long.parseLong(line.substring(comma + 1)));
    }
    assertEquals(records, output.size(), what + ": records in the output");
    for (Map.Entry<String, Integer> e : perUser.entrySet()) {
      List<Long> counts = seen.getOrDefault(e.getKey(), new ArrayList<>());
      counts.sort(null);
      List<Long> want = new ArrayList<>();
      for (long i = 1; i <= e.getValue(); i++) {
        want.add(i);
      }
      assertEquals(want, counts, what + ": counts of " + e.getKey());
    }
  }

  /**
   * Writes lines {@code user,seq} keyed by user, about 3,000 a second, until stopped: input
   * keeps arriving through the failures and rescales, as in production.
   */
  static final class InputWriter implements AutoCloseable {
    private final Map<String, Integer> perUser = new HashMap<>();
    private final Thread thread;
    private volatile boolean stopped;

    InputWriter(String topic) {
      Properties p = new Properties();
      p.put("bootstrap.servers", kafka.bootstrapServers());
      p.put("key.serializer", StringSerializer.class.getName());
      p.put("value.serializer", StringSerializer.class.getName());
      thread = new Thread(() -> {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
          for (int i = 0; !stopped; i++) {
            String user = "u" + (i * 7919L % USERS);
            synchronized (perUser) {
              perUser.merge(user, 1, Integer::sum);
            }
            producer.send(new ProducerRecord<>(topic, user, user + "," + i));
            if (i % 300 == 299) {
              Thread.sleep(100);
            }
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "input-writer");
      thread.start();
    }

    /** Stops writing; what was written, per user (every record is acknowledged). */
    Map<String, Integer> stop() throws InterruptedException {
      stopped = true;
      thread.join();
      synchronized (perUser) {
        return new HashMap<>(perUser);
      }
    }

    @Override
    public void close() throws InterruptedException {
      stop();
    }
  }

  /**
   * Reads the topic as a {@code read_committed} consumer until {@code atLeast} records arrived,
   * then two more seconds, so that duplicates committed late show.
   */
  static List<String> readCommitted(String topic, int atLeast) {
    List<String> out = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = kafka.readCommittedFromStart(topic)) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      long quietUntil = Long.MAX_VALUE;
      while (System.nanoTime() < Math.min(deadline, quietUntil)) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          out.add(r.value());
        }
        if (out.size() >= atLeast && quietUntil == Long.MAX_VALUE) {
          quietUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        }
      }
    }
    return out;
  }
}
