package io.stratus.kafka.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Kafka broker in this JVM: one KRaft node that is both controller and broker, on
 * 127.0.0.1, its log in a directory of its own. For tests and the demo, where no Kafka cluster
 * exists. It can be stopped and started again on the same ports and log (a broker restart).
 */
public final class EmbeddedKafka implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);

  private final Path logDir;
  private final boolean ownsLogDir;
  private final int brokerPort;
  private final int controllerPort;
  private final Map<String, String> overrides;
  private KafkaRaftServer server;

  private EmbeddedKafka(Path logDir, boolean ownsLogDir, Map<String, String> overrides)
      throws IOException {
    this.logDir = logDir;
    this.ownsLogDir = ownsLogDir;
    this.overrides = Map.copyOf(overrides);
    this.brokerPort = freePort();
    this.controllerPort = freePort();
    format();
  }

  /** A broker started on free ports with its log in a new temporary directory. */
  public static EmbeddedKafka start() {
    return start(Map.of());
  }

  /** A started broker with broker settings {@code overrides} on top of the defaults. */
  public static EmbeddedKafka start(Map<String, String> overrides) {
    try {
      EmbeddedKafka kafka = new EmbeddedKafka(Files.createTempDirectory("stratus-kafka-"), true,
          overrides);
      kafka.startBroker();
      return kafka;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the embedded Kafka broker's log directory",
          e);
    }
  }

  /**
   * A started broker whose log is {@code logDir}, kept when it closes: a later start on the
   * same directory finds the topics, records and committed offsets of the earlier one (the
   * demo resumes there).
   */
  public static EmbeddedKafka startIn(Path logDir) {
    try {
      Files.createDirectories(logDir);
      EmbeddedKafka kafka = new EmbeddedKafka(logDir, false, Map.of());
      kafka.startBroker();
      return kafka;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot use " + logDir + " as the embedded Kafka broker's "
          + "log directory: " + e.getMessage(), e);
    }
  }

  /** Grows {@code topic} to {@code partitions} partitions. */
  public void growTopic(String topic, int partitions) {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrapServers()))) {
      admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(partitions))).all().get();
    } catch (Exception e) {
      throw new IllegalStateException("growing " + topic + " to " + partitions
          + " partitions failed: " + e.getMessage(), e);
    }
  }

  /** Whether {@code names} all exist. */
  public boolean topicsExist(String... names) {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrapServers()))) {
      return admin.listTopics().names().get().containsAll(List.of(names));
    } catch (Exception e) {
      throw new IllegalStateException("listing topics failed: " + e.getMessage(), e);
    }
  }

  /**
   * A consumer of String keys and values that sees only committed records
   * ({@code read_committed}), assigned every partition of {@code topic} from its beginning:
   * how tests, demos and benchmarks read exactly-once output. The caller closes it.
   */
  public KafkaConsumer<String, String> readCommittedFromStart(String topic) {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrapServers());
    p.put("key.deserializer", StringDeserializer.class.getName());
    p.put("value.deserializer", StringDeserializer.class.getName());
    p.put("isolation.level", "read_committed");
    KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p);
    try {
      List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(10))
          .stream().map(i -> new TopicPartition(topic, i.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      return consumer;
    } catch (RuntimeException e) {
      consumer.close();
      throw e;
    }
  }

  /** Where clients connect: {@code 127.0.0.1:<port>}. */
  public String bootstrapServers() {
    return "127.0.0.1:" + brokerPort;
  }

  /**
   * Creates topics with {@code partitions} each (replication 1), waiting until every partition
   * has its leader: producers that start at once otherwise meet "not the leader" errors, after
   * which idempotent ones were seen to fail their sequence checks.
   */
  public void createTopics(int partitions, String... names) {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrapServers()))) {
      admin.createTopics(Stream.of(names).map(n -> new NewTopic(n, partitions, (short) 1))
          .toList()).all().get();
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (!haveLeaders(admin, names)) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("partitions of " + List.of(names) + " have no leader "
              + "after 30 s");
        }
        Thread.sleep(20);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted creating topics " + List.of(names), e);
    } catch (Exception e) {
      throw new IllegalStateException("creating topics " + List.of(names) + " failed: "
          + e.getMessage(), e);
    }
  }

  /**
   * Whether every partition of {@code names} has a leader; false while the broker does not know
   * a topic yet (its metadata reaches the broker shortly after the controller created it).
   */
  private static boolean haveLeaders(Admin admin, String... names)
      throws InterruptedException, ExecutionException {
    try {
      return admin.describeTopics(List.of(names)).allTopicNames().get().values().stream()
          .allMatch(t -> t.partitions().stream().allMatch(p -> p.leader() != null
              && !p.leader().isEmpty()));
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UnknownTopicOrPartitionException) {
        return false;
      }
      throw e;
    }
  }

  /** Starts the broker again after {@link #stopBroker()}: same ports, same log. */
  public synchronized void startBroker() {
    if (server != null) {
      return;
    }
    KafkaRaftServer s = new KafkaRaftServer(new KafkaConfig(config(), false), Time.SYSTEM);
    s.startup();
    server = s;
    LOG.info("Embedded Kafka broker listens on {} (log in {})", bootstrapServers(), logDir);
  }

  /** Stops the broker, keeping its log: clients see it down until {@link #startBroker()}. */
  public synchronized void stopBroker() {
    if (server == null) {
      return;
    }
    server.shutdown();
    server.awaitShutdown();
    server = null;
  }

  @Override
  public void close() {
    stopBroker();
    if (ownsLogDir) {
      try (Stream<Path> files = Files.walk(logDir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException e) {
        LOG.warn("could not delete the embedded broker's log {}", logDir, e);
      }
    }
  }

  private Properties config() {
    Properties p = new Properties();
    p.put("process.roles", "broker,controller");
    p.put("node.id", "1");
    p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
    p.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:"
        + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
    p.put("controller.listener.names", "CONTROLLER");
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("log.dirs", logDir.toString());
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "4");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("transaction.state.log.num.partitions", "4");
    p.put("group.initial.rebalance.delay.ms", "0");
    p.put("num.partitions", "1");
    p.put("auto.create.topics.enable", "false");
    p.putAll(overrides);
    return p;
  }

  private void format() throws IOException {
    if (Files.exists(logDir.resolve("meta.properties"))) {
      return; // formatted by an earlier start: keep its cluster id and data
    }
    Formatter formatter = new Formatter()
        .setPrintStream(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))
        .setClusterId(Uuid.randomUuid().toString())
        .setNodeId(1)
        .setControllerListenerName("CONTROLLER")
        .setMetadataLogDirectory(logDir.toString())
        .setDirectories(Set.of(logDir.toString()))
        .setReleaseVersion(MetadataVersion.latestProduction());
    try {
      formatter.run();
    } catch (Exception e) {
      throw new IOException("formatting the embedded broker's log " + logDir + " failed: "
          + e.getMessage(), e);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
