package io.stratus.kafka;

import io.stratus.runtime.serde.BytesIn;
import io.stratus.runtime.serde.BytesOut;
import io.stratus.runtime.serde.Serde;
import io.stratus.runtime.sink.Sink;
import io.stratus.runtime.sink.SinkWriter;
import io.stratus.store.objectstore.ObjectInfo;
import io.stratus.store.objectstore.ObjectNotFoundException;
import io.stratus.store.objectstore.ObjectStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a job's output to Kafka, at least once or exactly once.
 *
 * <p>At least once: each task's producer sends as records come and flushes at every
 * checkpoint's barrier, so a completed checkpoint's output is in Kafka; after a failure the
 * records since then are sent again.
 *
 * <p>Exactly once: each task stages its output since the last barrier as one object in the
 * job's bucket ({@code <staging>/<prefix>/part-<subtask>-<checkpoint>-<writer>}), like the file
 * sink. When the checkpoint completes, {@link #commit} (on the coordinator) publishes each staged
 * object in one Kafka transaction of the transactional id {@code <prefix>-publisher}, then
 * deletes it. The transaction also commits, as consumer-group offset metadata of the group
 * {@code <prefix>-published}, which object it published: a publication interrupted between the
 * Kafka commit and the delete is recognised and not repeated. No transaction stays open
 * between checkpoints, so nothing blocks {@code read_committed} readers when a job fails, and
 * transactional ids do not grow with tasks or checkpoints (one per sink). The cost: exactly-once
 * output passes through the bucket and the coordinator, and becomes visible when its
 * checkpoint completes (as with any two-phase sink). Kafka's own two-phase commit (KIP-939),
 * which would let tasks publish themselves, is internal in kafka-clients 4.4. See
 * {@code docs/kafka.md}.
 *
 * @param <T> the records
 */
public final class KafkaSink<T> implements Sink<T> {

  private static final Logger LOG = LoggerFactory.getLogger(KafkaSink.class);

  /** How the sink delivers. */
  public enum Guarantee {
    /** Every record arrives; after a failure, records since the last checkpoint again. */
    AT_LEAST_ONCE,
    /** Records become visible once, when the checkpoint that covers them completes. */
    EXACTLY_ONCE
  }

  private final Map<String, Object> producerConfig;
  private final Function<T, String> topicOf;
  private final Serde<T> valueSerde;
  private final Function<T, byte[]> keyOf;
  private final Guarantee guarantee;
  private final String prefix;
  private final ObjectStore staging;
  private final String stagingDirectory;
  /** Publications run one at a time, in the order checkpoints complete. */
  private final ExecutorService publisher;

  private KafkaSink(Builder<T> b) {
    this.producerConfig = Map.copyOf(b.producerConfig);
    this.topicOf = b.topicOf;
    this.valueSerde = b.valueSerde;
    this.keyOf = b.keyOf;
    this.guarantee = b.guarantee;
    this.prefix = b.prefix;
    this.staging = b.staging;
    this.stagingDirectory = b.stagingDirectory + "/" + b.prefix + "/";
    this.publisher = guarantee == Guarantee.AT_LEAST_ONCE ? null
        : Executors.newSingleThreadExecutor(r -> {
          Thread t = new Thread(r, "kafka-publisher-" + prefix);
          t.setDaemon(true);
          return t;
        });
  }

  public static <T> Builder<T> builder(String bootstrapServers, Serde<T> valueSerde) {
    return new Builder<>(bootstrapServers, valueSerde);
  }

  public Guarantee guarantee() {
    return guarantee;
  }

  @Override
  public SinkWriter<T> createWriter(int subtask, int parallelism) {
    return guarantee == Guarantee.AT_LEAST_ONCE ? new KafkaSinkWriter<>(this, subtask, parallelism)
        : new StagingWriter(subtask);
  }

  /**
   * Publishes staged output (on the coordinator), each object in its own transaction, in the
   * order given; an object published before is skipped, so committing twice is harmless.
   */
  @Override
  public CompletableFuture<Void> commit(List<String> committables) {
    if (guarantee == Guarantee.AT_LEAST_ONCE || committables.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    return CompletableFuture.runAsync(() -> {
      try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(
          producerConfig(prefix + "-publisher"));
          Admin admin = Admin.create(adminConfig())) {
        producer.initTransactions();
        for (String key : committables) {
          publish(producer, admin, key);
        }
      }
    }, publisher);
  }

  /**
   * Deletes staged output no completed checkpoint published (the job has ended), except
   * {@code keep}, which a later run restores and publishes.
   */
  @Override
  public CompletableFuture<Integer> abortStaged(Instant before, Set<String> keep) {
    if (guarantee == Guarantee.AT_LEAST_ONCE) {
      return CompletableFuture.completedFuture(0);
    }
    return staging.list(stagingDirectory).thenCompose(staged -> {
      List<String> aborted = staged.stream()
          .filter(o -> o.lastModified().isBefore(before) && !keep.contains(o.key()))
          .map(ObjectInfo::key).toList();
      return aborted.isEmpty() ? CompletableFuture.completedFuture(0)
          : staging.delete(aborted).thenApply(v -> aborted.size());
    });
  }

  private void publish(KafkaProducer<byte[], byte[]> producer, Admin admin, String key) {
    byte[] staged;
    try {
      staged = staging.get(key).join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof ObjectNotFoundException) {
        return; // published and deleted before
      }
      throw e;
    }
    String group = prefix + "-published";
    Map<TopicPartition, OffsetAndMetadata> marker = lastPublished(admin, group);
    if (!marker.isEmpty() && key.equals(marker.values().iterator().next().metadata())) {
      staging.delete(List.of(key)).join(); // published; only the delete was interrupted
      return;
    }
    long sequence = marker.isEmpty() ? 0 : marker.values().iterator().next().offset() + 1;
    TopicPartition markerPartition = null;
    producer.beginTransaction();
    try {
      BytesIn in = new BytesIn(staged);
      int records = 0;
      while (in.hasRemaining()) {
        String topic = new String(in.readLengthPrefixed(), java.nio.charset.StandardCharsets.UTF_8);
        byte[] recordKey = in.readByte() == 0 ? null : in.readLengthPrefixed();
        byte[] value = in.readLengthPrefixed();
        producer.send(new ProducerRecord<>(topic, recordKey, value));
        markerPartition = markerPartition != null ? markerPartition : new TopicPartition(topic, 0);
        records++;
      }
      if (markerPartition == null && !marker.isEmpty()) {
        markerPartition = marker.keySet().iterator().next();
      }
      if (markerPartition != null) {
        producer.sendOffsetsToTransaction(Map.of(markerPartition,
            new OffsetAndMetadata(sequence, key)), new ConsumerGroupMetadata(group));
      }
      producer.commitTransaction();
      LOG.debug("Published {} records of {}", records, key);
    } catch (RuntimeException e) {
      producer.abortTransaction();
      throw e;
    }
    staging.delete(List.of(key)).join();
  }

  /** The marker of the last publication: one partition's offset, the object in its metadata. */
  private Map<TopicPartition, OffsetAndMetadata> lastPublished(Admin admin, String group) {
    try {
      Map<TopicPartition, OffsetAndMetadata> all = admin.listConsumerGroupOffsets(group)
          .partitionsToOffsetAndMetadata().get();
      Map<TopicPartition, OffsetAndMetadata> newest = new HashMap<>();
      all.entrySet().stream().filter(e -> e.getValue() != null)
          .max((a, b) -> Long.compare(a.getValue().offset(), b.getValue().offset()))
          .ifPresent(e -> newest.put(e.getKey(), e.getValue()));
      return newest;
    } catch (Exception e) {
      throw new IllegalStateException("reading what sink '" + prefix + "' published last (group "
          + group + ") failed: " + e.getMessage(), e);
    }
  }

  Properties producerConfig(String transactionalId) {
    Properties p = new Properties();
    p.putAll(producerConfig);
    p.put("key.serializer", ByteArraySerializer.class.getName());
    p.put("value.serializer", ByteArraySerializer.class.getName());
    if (transactionalId != null) {
      p.put("transactional.id", transactionalId);
    }
    return p;
  }

  Function<T, String> topicOf() {
    return topicOf;
  }

  Serde<T> valueSerde() {
    return valueSerde;
  }

  Function<T, byte[]> keyOf() {
    return keyOf;
  }

  private Properties adminConfig() {
    Properties p = new Properties();
    producerConfig.forEach((k, v) -> {
      if (k.equals("bootstrap.servers") || k.startsWith("security.") || k.startsWith("sasl.")
          || k.startsWith("ssl.")) {
        p.put(k, v);
      }
    });
    return p;
  }

  /** Stages a task's output since the last barrier in memory, then as one object. */
  private final class StagingWriter implements SinkWriter<T> {
    private final int subtask;
    private final String writerId = java.util.UUID.randomUUID().toString().substring(0, 8);
    private BytesOut buffer = new BytesOut(4096);
    private boolean empty = true;

    StagingWriter(int subtask) {
      this.subtask = subtask;
    }

    @Override
    public void write(T record) {
      buffer.writeLengthPrefixed(topicOf.apply(record)
          .getBytes(java.nio.charset.StandardCharsets.UTF_8));
      byte[] key = keyOf.apply(record);
      if (key == null) {
        buffer.writeByte(0);
      } else {
        buffer.writeByte(1).writeLengthPrefixed(key);
      }
      buffer.writeLengthPrefixed(valueSerde.toBytes(record));
      empty = false;
    }

    @Override
    public CompletableFuture<List<String>> prepareCommit(long checkpointId) {
      if (empty) {
        return CompletableFuture.completedFuture(List.of());
      }
      String id = checkpointId == Long.MAX_VALUE ? "final" : String.format("%012d", checkpointId);
      String key = stagingDirectory + "part-" + String.format("%05d", subtask) + "-" + id + "-"
          + writerId;
      byte[] bytes = buffer.toByteArray();
      buffer = new BytesOut(Math.max(4096, bytes.length / 2));
      empty = true;
      return staging.put(key, bytes).thenApply(v -> List.of(key));
    }
  }

  /**
   * Builds a {@link KafkaSink}.
   *
   * @param <T> the records
   */
  public static final class Builder<T> {
    private final Map<String, Object> producerConfig = new HashMap<>();
    private final Serde<T> valueSerde;
    private Function<T, String> topicOf;
    private Function<T, byte[]> keyOf = r -> null;
    private Guarantee guarantee = Guarantee.AT_LEAST_ONCE;
    private String prefix;
    private ObjectStore staging;
    private String stagingDirectory;

    private Builder(String bootstrapServers, Serde<T> valueSerde) {
      if (bootstrapServers == null || bootstrapServers.isBlank()) {
        throw new IllegalArgumentException("a Kafka sink needs bootstrap servers "
            + "(host:port, ...)");
      }
      this.valueSerde = Objects.requireNonNull(valueSerde, "valueSerde");
      producerConfig.put("bootstrap.servers", bootstrapServers);
    }

    /** Every record to {@code topic}. */
    public Builder<T> topic(String topic) {
      Objects.requireNonNull(topic, "topic");
      this.topicOf = r -> topic;
      return this;
    }

    /** Each record to the topic {@code topicOf} names for it. */
    public Builder<T> topic(Function<T, String> topicOf) {
      this.topicOf = Objects.requireNonNull(topicOf, "topicOf");
      return this;
    }

    /** The record key (partitioning by Kafka's default partitioner); null: no key. */
    public <K> Builder<T> key(Function<T, K> keyOf, Serde<K> keySerde) {
      Objects.requireNonNull(keyOf, "keyOf");
      Objects.requireNonNull(keySerde, "keySerde");
      this.keyOf = r -> {
        K k = keyOf.apply(r);
        return k == null ? null : keySerde.toBytes(k);
      };
      return this;
    }

    /**
     * Exactly once: output is staged under {@code directory} of {@code staging} (the job's
     * bucket) and published by the transactional id {@code <prefix>-publisher}. The prefix
     * names this sink among every application writing to the cluster: two jobs must not share
     * it.
     */
    public Builder<T> exactlyOnce(String prefix, ObjectStore staging, String directory) {
      if (prefix == null || prefix.isBlank() || prefix.contains("/")) {
        throw new IllegalArgumentException("exactly once needs a prefix for its transactional "
            + "id (non-blank, without '/'), was '" + prefix + "'");
      }
      this.guarantee = Guarantee.EXACTLY_ONCE;
      this.prefix = prefix;
      this.staging = Objects.requireNonNull(staging, "staging");
      this.stagingDirectory = Objects.requireNonNull(directory, "directory");
      return this;
    }

    /** Any other producer setting (security, batching, compression). */
    public Builder<T> property(String key, Object value) {
      if (Set.of("key.serializer", "value.serializer", "transactional.id").contains(key)) {
        throw new IllegalArgumentException("the Kafka sink sets '" + key + "' itself");
      }
      producerConfig.put(key, value);
      return this;
    }

    public KafkaSink<T> build() {
      if (topicOf == null) {
        throw new IllegalArgumentException("a Kafka sink needs a topic");
      }
      return new KafkaSink<>(this);
    }
  }
}
