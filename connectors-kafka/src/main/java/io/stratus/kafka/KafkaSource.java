package io.stratus.kafka;

import io.stratus.runtime.serde.Serde;
import io.stratus.runtime.source.Source;
import io.stratus.runtime.source.SourceReader;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.function.ToLongFunction;
import java.util.regex.Pattern;
import org.apache.kafka.common.TopicPartition;

/**
 * Reads Kafka topics, exactly once with the job's checkpoints: the next offset of every
 * partition is in the checkpoint (split name {@code topic-partition}), and a restore seeks
 * there. Kafka's consumer groups play no part in which task reads what: each reader assigns
 * itself the partitions {@link #ownerOf} gives it, so a rescale may change the source's
 * parallelism (every reader is handed all partitions' offsets and takes its own). Partitions
 * that appear while the job runs (a topic that grew, a new topic matching the pattern) are
 * found every {@link Builder#partitionDiscovery discovery interval} and read from their
 * earliest offset. Offsets are also committed to the group, if one is set, when a checkpoint is
 * taken: for lag monitoring only, never read back except by {@link StartingOffsets#committed}.
 *
 * <p>Where Flink's KafkaSource differs: it assigns partitions from a coordinator-side
 * enumerator; here every reader computes the same assignment (Flink's formula), which needs no
 * coordinator round trip on discovery. See {@code docs/kafka.md}.
 *
 * @param <T> the records (record values, read with the job's serde)
 */
public final class KafkaSource<T> implements Source<T> {

  private final Map<String, Object> consumerConfig;
  private final List<String> topics;
  private final Pattern topicPattern;
  private final Serde<T> serde;
  private final StartingOffsets startingOffsets;
  private final Duration partitionDiscovery;
  private final ToLongFunction<T> eventTime;

  private KafkaSource(Builder<T> b) {
    this.consumerConfig = Map.copyOf(b.consumerConfig);
    this.topics = List.copyOf(b.topics);
    this.topicPattern = b.topicPattern;
    this.serde = b.serde;
    this.startingOffsets = b.startingOffsets;
    this.partitionDiscovery = b.partitionDiscovery;
    this.eventTime = b.eventTime;
  }

  /** A source reading from the brokers at {@code bootstrapServers} (host:port, ...). */
  public static <T> Builder<T> builder(String bootstrapServers, Serde<T> valueSerde) {
    return new Builder<>(bootstrapServers, valueSerde);
  }

  /**
   * Which of {@code readers} reads {@code partition}: the topic's start index plus the
   * partition number, modulo the readers (Flink's formula, so partitions of one topic spread
   * evenly and each reader's share of a growing topic stays put).
   */
  public static int ownerOf(TopicPartition partition, int readers) {
    int start = ((partition.topic().hashCode() * 31) & 0x7FFFFFFF) % readers;
    return (start + partition.partition()) % readers;
  }

  /** The split name of a partition in a checkpoint's position: {@code topic-partition}. */
  static String splitOf(TopicPartition partition) {
    return partition.toString();
  }

  /** The partition a split name names. */
  static TopicPartition partitionOf(String split) {
    int dash = split.lastIndexOf('-');
    if (dash <= 0) {
      throw new IllegalArgumentException("'" + split + "' is not a Kafka split name "
          + "(topic-partition)");
    }
    return new TopicPartition(split.substring(0, dash),
        Integer.parseInt(split.substring(dash + 1)));
  }

  @Override
  public SourceReader<T> createReader(int split, int splits) {
    Properties config = new Properties();
    config.putAll(consumerConfig);
    return new KafkaSourceReader<>(split, splits, config, topics, topicPattern, serde,
        startingOffsets, partitionDiscovery, eventTime);
  }

  @Override
  public boolean bounded() {
    return false;
  }

  @Override
  public boolean rescalable() {
    return true;
  }

  @Override
  public Serde<T> serde() {
    return serde;
  }

  /** Where a partition without a checkpointed offset starts, when the job starts fresh. */
  public sealed interface StartingOffsets {

    /** The earliest offset still in the log. */
    static StartingOffsets earliest() {
      return new Earliest();
    }

    /** The end of the log: only records written after the job started. */
    static StartingOffsets latest() {
      return new Latest();
    }

    /** The first record whose timestamp is at or after {@code epochMillis}; else the end. */
    static StartingOffsets timestamp(long epochMillis) {
      return new Timestamp(epochMillis);
    }

    /**
     * The consumer group's committed offset (the group must be set); partitions the group has
     * not committed start at {@code otherwise}.
     */
    static StartingOffsets committed(StartingOffsets otherwise) {
      if (otherwise instanceof Committed) {
        throw new IllegalArgumentException("committed offsets need a fallback that is not "
            + "itself the committed offsets");
      }
      return new Committed(otherwise);
    }

    record Earliest() implements StartingOffsets {}

    record Latest() implements StartingOffsets {}

    record Timestamp(long epochMillis) implements StartingOffsets {}

    record Committed(StartingOffsets otherwise) implements StartingOffsets {}
  }

  /**
   * Builds a {@link KafkaSource}.
   *
   * @param <T> the records
   */
  public static final class Builder<T> {
    private final Map<String, Object> consumerConfig = new HashMap<>();
    private List<String> topics = List.of();
    private Pattern topicPattern;
    private final Serde<T> serde;
    private StartingOffsets startingOffsets = StartingOffsets.earliest();
    private Duration partitionDiscovery = Duration.ofSeconds(10);
    private ToLongFunction<T> eventTime;

    private Builder(String bootstrapServers, Serde<T> serde) {
      if (bootstrapServers == null || bootstrapServers.isBlank()) {
        throw new IllegalArgumentException("a Kafka source needs bootstrap servers "
            + "(host:port, ...)");
      }
      this.serde = Objects.requireNonNull(serde, "serde");
      consumerConfig.put("bootstrap.servers", bootstrapServers);
    }

    /** The topics to read. */
    public Builder<T> topics(String... names) {
      if (names.length == 0) {
        throw new IllegalArgumentException("name at least one topic");
      }
      this.topics = List.of(names);
      return this;
    }

    /** Every topic whose whole name matches {@code pattern}, found again at each discovery. */
    public Builder<T> topicPattern(Pattern pattern) {
      this.topicPattern = Objects.requireNonNull(pattern, "pattern");
      return this;
    }

    /**
     * The consumer group offsets are committed to (for monitoring) and read from by
     * {@link StartingOffsets#committed}. No group membership: the group never assigns
     * partitions.
     */
    public Builder<T> groupId(String groupId) {
      consumerConfig.put("group.id", groupId);
      return this;
    }

    public Builder<T> startingOffsets(StartingOffsets offsets) {
      this.startingOffsets = Objects.requireNonNull(offsets, "offsets");
      return this;
    }

    /** How often readers look for new partitions and topics; zero turns discovery off. */
    public Builder<T> partitionDiscovery(Duration interval) {
      if (interval.isNegative()) {
        throw new IllegalArgumentException("partition discovery interval is negative: "
            + interval);
      }
      this.partitionDiscovery = interval;
      return this;
    }

    /** Event time from a field of the record; by default the Kafka record's timestamp. */
    public Builder<T> eventTime(ToLongFunction<T> fromRecord) {
      this.eventTime = Objects.requireNonNull(fromRecord, "fromRecord");
      return this;
    }

    /**
     * Any other consumer setting (security, fetch sizes). Key and value deserializers,
     * auto-commit and the isolation level are the source's own: the source reads
     * {@code read_committed}, so output of aborted transactions never enters the job.
     */
    public Builder<T> property(String key, Object value) {
      if (KafkaSourceReader.OWN_CONFIG.contains(key)) {
        throw new IllegalArgumentException("the Kafka source sets '" + key + "' itself");
      }
      consumerConfig.put(key, value);
      return this;
    }

    public KafkaSource<T> build() {
      if (topics.isEmpty() == (topicPattern == null)) {
        throw new IllegalArgumentException("a Kafka source reads either named topics or a "
            + "topic pattern (set exactly one)");
      }
      if (startingOffsets instanceof StartingOffsets.Committed
          && !consumerConfig.containsKey("group.id")) {
        throw new IllegalArgumentException("starting from committed offsets needs a group id");
      }
      return new KafkaSource<>(this);
    }
  }
}
