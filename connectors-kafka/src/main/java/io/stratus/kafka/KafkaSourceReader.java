package io.stratus.kafka;

import io.stratus.runtime.serde.Serde;
import io.stratus.runtime.source.SourceReader;
import io.stratus.runtime.source.SourceRecord;
import io.stratus.runtime.source.SplitLag;
import io.stratus.runtime.source.UnreadableRecordException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One task's reader of a {@link KafkaSource}. The task's event loop never touches the consumer:
 * a fetcher thread owns it (Flink's split fetcher), discovers partitions, seeks them, polls,
 * and hands batches over through a small queue. When the queue is full the fetcher stops
 * polling, so a slow job holds records in Kafka, not in memory. The reader's position (next
 * offset per partition) is kept on the task's thread and moves only as records are returned,
 * so a checkpoint holds exactly what the job has seen.
 */
final class KafkaSourceReader<T> implements SourceReader<T> {

  private static final Logger LOG = LoggerFactory.getLogger(KafkaSourceReader.class);

  /** Consumer settings the source decides itself. */
  static final Set<String> OWN_CONFIG = Set.of("key.deserializer", "value.deserializer",
      "enable.auto.commit", "isolation.level");

  private static final Duration POLL = Duration.ofMillis(100);

  private final int subtask;
  private final int readers;
  private final Properties config;
  private final List<String> topics;
  private final Pattern topicPattern;
  private final Serde<T> serde;
  private final KafkaSource.StartingOffsets startingOffsets;
  private final Duration discovery;
  private final ToLongFunction<T> eventTime;
  private final boolean commitsOffsets;

  private final BlockingQueue<Fetched> fetched = new ArrayBlockingQueue<>(4);
  /** Task thread: the next offset of every partition this reader owns and knows. */
  private final Map<TopicPartition, Long> position = new HashMap<>();
  /** Task thread: the split names of those partitions. */
  private final Map<TopicPartition, String> splitNames = new HashMap<>();
  /** Task thread: the timestamp of the last record returned, per partition. */
  private final Map<TopicPartition, Long> lastTimestamp = new HashMap<>();
  /** Each assigned partition's log end (its last stable offset), as the fetcher last saw it. */
  private volatile Map<TopicPartition, Long> logEnd = Map.of();
  /** The checkpoint's offsets for this reader's partitions; null when the job started fresh. */
  private Map<TopicPartition, Long> restored;
  private Iterator<ConsumerRecord<byte[], byte[]>> batch;
  /** A record the serde rejected after others of the same poll: reported by the next poll. */
  private UnreadableRecordException unreadable;
  private Thread fetcher;
  private volatile boolean closed;
  private volatile Throwable failure;
  private volatile Map<TopicPartition, OffsetAndMetadata> toCommit;

  KafkaSourceReader(int subtask, int readers, Properties config, List<String> topics,
      Pattern topicPattern, Serde<T> serde, KafkaSource.StartingOffsets startingOffsets,
      Duration discovery, ToLongFunction<T> eventTime) {
    this.subtask = subtask;
    this.readers = readers;
    this.config = config;
    this.topics = topics;
    this.topicPattern = topicPattern;
    this.serde = serde;
    this.startingOffsets = startingOffsets;
    this.discovery = discovery;
    this.eventTime = eventTime;
    this.commitsOffsets = config.containsKey("group.id");
    config.put("key.deserializer", ByteArrayDeserializer.class.getName());
    config.put("value.deserializer", ByteArrayDeserializer.class.getName());
    config.put("enable.auto.commit", "false");
    config.put("isolation.level", "read_committed");
    config.putIfAbsent("auto.offset.reset", "earliest");
    config.putIfAbsent("client.id", "stratus-source-" + subtask + "-of-" + readers);
  }

  @Override
  public List<SourceRecord<T>> poll(int max) {
    Throwable failed = failure;
    if (failed != null) {
      throw new IllegalStateException("reading Kafka failed: " + failed.getMessage(), failed);
    }
    if (unreadable != null) {
      UnreadableRecordException e = unreadable;
      unreadable = null;
      throw e;
    }
    if (fetcher == null) {
      fetcher = new Thread(this::fetch, "kafka-source-" + subtask + "-of-" + readers);
      fetcher.setDaemon(true);
      fetcher.start();
    }
    List<SourceRecord<T>> out = new ArrayList<>(Math.min(max, 512));
    while (out.size() < max) {
      if (batch == null || !batch.hasNext()) {
        Fetched next = fetched.poll();
        if (next == null) {
          break;
        }
        if (next instanceof Fetched.Started s) {
          position.putIfAbsent(s.partition(), s.offset());
          splitNames.computeIfAbsent(s.partition(), KafkaSource::splitOf);
          continue;
        }
        batch = ((Fetched.Batch) next).records().iterator();
        continue;
      }
      ConsumerRecord<byte[], byte[]> r = batch.next();
      TopicPartition partition = new TopicPartition(r.topic(), r.partition());
      position.put(partition, r.offset() + 1);
      lastTimestamp.put(partition, r.timestamp());
      if (r.value() == null) {
        continue; // a tombstone carries no record for the job
      }
      T value;
      try {
        value = serde.fromBytes(r.value());
      } catch (RuntimeException e) {
        UnreadableRecordException u = new UnreadableRecordException(partition + "@" + r.offset(),
            r.value(), r.timestamp(), new IllegalArgumentException("serde " + serde + ": "
                + e.getMessage(), e));
        if (out.isEmpty()) {
          throw u;
        }
        unreadable = u;
        break;
      }
      out.add(new SourceRecord<>(value,
          eventTime == null ? r.timestamp() : eventTime.applyAsLong(value),
          splitNames.computeIfAbsent(partition, KafkaSource::splitOf)));
    }
    return out;
  }

  @Override
  public Map<String, Long> position() {
    Map<String, Long> out = new HashMap<>();
    position.forEach((p, offset) -> out.put(KafkaSource.splitOf(p), offset));
    if (commitsOffsets && !position.isEmpty()) {
      Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
      position.forEach((p, offset) -> commit.put(p, new OffsetAndMetadata(offset)));
      toCommit = commit;
    }
    return out;
  }

  @Override
  public Map<String, SplitLag> lag() {
    long now = System.currentTimeMillis();
    Map<String, SplitLag> out = new HashMap<>();
    logEnd.forEach((p, end) -> {
      Long at = position.get(p);
      if (at == null) {
        return;
      }
      long behind = Math.max(0, end - at);
      Long last = lastTimestamp.get(p);
      out.put(splitNames.computeIfAbsent(p, KafkaSource::splitOf), new SplitLag(behind,
          behind == 0 || last == null ? 0 : Math.max(0, now - last)));
    });
    return out;
  }

  @Override
  public Set<String> splits() {
    return Set.copyOf(splitNames.values());
  }

  @Override
  public void seek(Map<String, Long> checkpointed) {
    if (fetcher != null) {
      throw new IllegalStateException("a Kafka reader seeks before it reads");
    }
    restored = new HashMap<>();
    checkpointed.forEach((split, offset) -> {
      TopicPartition p = KafkaSource.partitionOf(split);
      if (KafkaSource.ownerOf(p, readers) == subtask) {
        restored.put(p, offset);
        position.put(p, offset);
        splitNames.put(p, split);
      }
    });
  }

  @Override
  public void close() {
    closed = true;
  }

  // ------------------------------------------------------------------ the fetcher's thread

  private void fetch() {
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config)) {
      Set<TopicPartition> assigned = new HashSet<>();
      boolean first = true;
      long nextDiscovery = 0;
      while (!closed) {
        if (System.nanoTime() - nextDiscovery >= 0) {
          Set<TopicPartition> added = discover(consumer);
          added.removeAll(assigned);
          if (!added.isEmpty()) {
            assigned.addAll(added);
            consumer.assign(assigned);
            seekStart(consumer, added, first);
            for (TopicPartition p : added) {
              hand(new Fetched.Started(p, consumer.position(p)));
            }
            LOG.info("Kafka reader {}/{} reads {} ({} partitions)", subtask, readers, added,
                assigned.size());
          }
          first = false;
          nextDiscovery = discovery.isZero() ? Long.MAX_VALUE
              : System.nanoTime() + discovery.toNanos();
        }
        Map<TopicPartition, OffsetAndMetadata> commit = toCommit;
        if (commit != null) {
          toCommit = null;
          consumer.commitAsync(commit, (offsets, e) -> {
            if (e != null) {
              LOG.debug("committing offsets for monitoring failed: {}", e.toString());
            }
          });
        }
        if (assigned.isEmpty()) {
          consumer.poll(Duration.ZERO); // completes the async commits
          TimeUnit.MILLISECONDS.sleep(POLL.toMillis());
          continue;
        }
        ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL);
        publishLogEnds(consumer, assigned);
        if (!records.isEmpty()) {
          List<ConsumerRecord<byte[], byte[]>> list = new ArrayList<>(records.count());
          records.forEach(list::add);
          hand(new Fetched.Batch(list));
        }
      }
    } catch (InterruptedException | InterruptException | WakeupException e) {
      if (!closed) {
        failure = e;
      }
    } catch (Throwable e) {
      if (!closed) {
        LOG.warn("Kafka reader {}/{} failed", subtask, readers, e);
        failure = e;
      }
    }
  }

  /** Where each partition's log ends, from the consumer's fetch metadata (no request). */
  private void publishLogEnds(KafkaConsumer<byte[], byte[]> consumer,
      Set<TopicPartition> assigned) {
    Map<TopicPartition, Long> ends = new HashMap<>();
    for (TopicPartition p : assigned) {
      java.util.OptionalLong behind = consumer.currentLag(p);
      if (behind.isPresent()) {
        ends.put(p, consumer.position(p) + behind.getAsLong());
      }
    }
    logEnd = ends;
  }

  /** This reader's partitions of the topics as they are now; retried while Kafka is away. */
  private Set<TopicPartition> discover(KafkaConsumer<byte[], byte[]> consumer) {
    while (true) {
      try {
        Collection<PartitionInfo> partitions = new ArrayList<>();
        if (topicPattern != null) {
          consumer.listTopics().forEach((topic, infos) -> {
            if (topicPattern.matcher(topic).matches()) {
              partitions.addAll(infos);
            }
          });
        } else {
          for (String topic : topics) {
            partitions.addAll(consumer.partitionsFor(topic));
          }
        }
        Set<TopicPartition> mine = new HashSet<>();
        for (PartitionInfo info : partitions) {
          TopicPartition p = new TopicPartition(info.topic(), info.partition());
          if (KafkaSource.ownerOf(p, readers) == subtask) {
            mine.add(p);
          }
        }
        return mine;
      } catch (TimeoutException e) {
        if (closed) {
          return Set.of();
        }
        LOG.warn("Kafka reader {}/{} cannot list partitions yet: {}", subtask, readers,
            e.getMessage());
      }
    }
  }

  /**
   * Positions newly assigned partitions: at the checkpoint's offset when it has one; a
   * partition the checkpoint lacks, or one found after the start, at its earliest offset (it
   * appeared after the job began); at the job's first discovery, where the builder said.
   */
  private void seekStart(KafkaConsumer<byte[], byte[]> consumer, Set<TopicPartition> added,
      boolean first) {
    Set<TopicPartition> rest = new HashSet<>();
    for (TopicPartition p : added) {
      Long offset = restored == null ? null : restored.get(p);
      if (offset != null) {
        consumer.seek(p, offset);
      } else {
        rest.add(p);
      }
    }
    if (rest.isEmpty()) {
      return;
    }
    if (restored != null || !first) {
      consumer.seekToBeginning(rest);
      return;
    }
    seekTo(consumer, startingOffsets, rest);
  }

  private static void seekTo(KafkaConsumer<byte[], byte[]> consumer,
      KafkaSource.StartingOffsets start, Set<TopicPartition> partitions) {
    if (start instanceof KafkaSource.StartingOffsets.Earliest) {
      consumer.seekToBeginning(partitions);
    } else if (start instanceof KafkaSource.StartingOffsets.Latest) {
      consumer.seekToEnd(partitions);
    } else if (start instanceof KafkaSource.StartingOffsets.Timestamp t) {
      Map<TopicPartition, Long> query = new HashMap<>();
      partitions.forEach(p -> query.put(p, t.epochMillis()));
      Set<TopicPartition> none = new HashSet<>();
      consumer.offsetsForTimes(query).forEach((p, found) -> {
        if (found == null) {
          none.add(p);
        } else {
          consumer.seek(p, found.offset());
        }
      });
      if (!none.isEmpty()) {
        consumer.seekToEnd(none); // an empty set would mean every assigned partition
      }
    } else if (start instanceof KafkaSource.StartingOffsets.Committed c) {
      Set<TopicPartition> none = new HashSet<>();
      Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(partitions);
      for (TopicPartition p : partitions) {
        OffsetAndMetadata o = committed.get(p);
        if (o == null) {
          none.add(p);
        } else {
          consumer.seek(p, o.offset());
        }
      }
      if (!none.isEmpty()) {
        seekTo(consumer, c.otherwise(), none);
      }
    }
  }

  private void hand(Fetched item) throws InterruptedException {
    while (!closed && !fetched.offer(item, POLL.toMillis(), TimeUnit.MILLISECONDS)) {
      // The job is behind: Kafka keeps the records until it catches up.
    }
  }

  /** What the fetcher hands the task. */
  private sealed interface Fetched {
    /** A partition was assigned and starts at {@code offset}. */
    record Started(TopicPartition partition, long offset) implements Fetched {}

    record Batch(List<ConsumerRecord<byte[], byte[]>> records) implements Fetched {}
  }
}
