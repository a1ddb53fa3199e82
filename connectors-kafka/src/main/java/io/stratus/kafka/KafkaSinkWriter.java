package io.stratus.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One task's at-least-once writer of a {@link KafkaSink}. The producer's calls can block
 * (metadata, a full buffer, a flush), so they run in order on the writer's own thread, never on
 * the task's event loop: {@link #write} collects records into chunks of {@value #CHUNK} and
 * queues each chunk's sends, {@link #prepareCommit} queues the last chunk and a flush behind
 * the writes before the barrier. At most {@value #MAX_QUEUED} records wait for that thread;
 * beyond that {@link #write} waits for room.
 */
final class KafkaSinkWriter<T> implements io.stratus.runtime.sink.SinkWriter<T> {

  private static final Logger LOG = LoggerFactory.getLogger(KafkaSinkWriter.class);
  private static final int MAX_QUEUED = 50_000;
  /** Records handed to the writer's thread at once: one task per record cost more than a send. */
  private static final int CHUNK = 256;

  private final KafkaSink<T> sink;
  private final int subtask;
  private final int parallelism;
  private final ExecutorService thread;
  private final Semaphore room = new Semaphore(MAX_QUEUED);
  private volatile Exception failure;
  /** Writer thread only. */
  private KafkaProducer<byte[], byte[]> producer;
  /** Task thread: records not yet handed to the writer's thread. */
  private List<ProducerRecord<byte[], byte[]>> chunk = new ArrayList<>(CHUNK);

  KafkaSinkWriter(KafkaSink<T> sink, int subtask, int parallelism) {
    this.sink = sink;
    this.subtask = subtask;
    this.parallelism = parallelism;
    this.thread = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "kafka-sink-" + subtask + "-of-" + parallelism);
      t.setDaemon(true);
      return t;
    });
    thread.execute(this::open);
  }

  @Override
  public void write(T record) throws Exception {
    check();
    chunk.add(new ProducerRecord<>(sink.topicOf().apply(record), sink.keyOf().apply(record),
        sink.valueSerde().toBytes(record)));
    if (chunk.size() == CHUNK) {
      handOver();
    }
  }

  /** Queues the chunk's sends on the writer's thread. */
  private void handOver() throws InterruptedException {
    if (chunk.isEmpty()) {
      return;
    }
    List<ProducerRecord<byte[], byte[]>> records = chunk;
    chunk = new ArrayList<>(CHUNK);
    room.acquire(records.size());
    thread.execute(() -> {
      for (ProducerRecord<byte[], byte[]> r : records) {
        if (failure != null || producer == null) {
          room.release();
          continue;
        }
        try {
          producer.send(r, (meta, e) -> {
            room.release();
            if (e != null && failure == null) {
              failure = e;
            }
          });
        } catch (RuntimeException e) {
          room.release();
          failure = e;
        }
      }
    });
  }

  @Override
  public CompletableFuture<List<String>> prepareCommit(long checkpointId) {
    CompletableFuture<List<String>> flushed = new CompletableFuture<>();
    try {
      handOver();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return CompletableFuture.failedFuture(e);
    }
    thread.execute(() -> {
      try {
        check();
        producer.flush();
        check();
        flushed.complete(List.of());
      } catch (Exception e) {
        failure = failure == null ? e : failure;
        flushed.completeExceptionally(e);
      }
    });
    return flushed;
  }

  @Override
  public void close() throws Exception {
    handOver();
    thread.execute(() -> {
      if (producer != null) {
        producer.close(Duration.ofSeconds(30));
        producer = null;
      }
    });
    thread.shutdown();
    check();
  }

  private void check() throws Exception {
    Exception e = failure;
    if (e != null) {
      throw new IllegalStateException("writing to Kafka failed: " + e.getMessage(), e);
    }
  }

  private void open() {
    try {
      producer = new KafkaProducer<>(sink.producerConfig(null));
    } catch (Exception e) {
      LOG.warn("Kafka sink {}/{} could not start", subtask, parallelism, e);
      failure = e;
    }
  }
}
