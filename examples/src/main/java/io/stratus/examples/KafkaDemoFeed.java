package io.stratus.examples;

import io.stratus.kafka.embedded.EmbeddedKafka;
import io.stratus.runtime.source.Payment;
import io.stratus.runtime.source.PaymentGenerator;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * What {@code stratus demo --kafka} runs beside the cluster: a Kafka broker in this process
 * (its log under the demo's data directory, so a second run finds the topics and the job's
 * offsets), the topics, and a producer that writes generated payments to
 * {@value KafkaFraudJob#PAYMENTS} at a steady rate, every 2,000th one twenty times its amount
 * (a stolen card, for the job to flag).
 */
final class KafkaDemoFeed implements AutoCloseable {

  static final int PARTITIONS = 4;

  private final EmbeddedKafka kafka;
  private final Thread feeder;
  private volatile boolean stopped;
  private volatile long written;

  private KafkaDemoFeed(EmbeddedKafka kafka, long users, long perSecond) {
    this.kafka = kafka;
    Properties p = new Properties();
    p.put("bootstrap.servers", kafka.bootstrapServers());
    p.put("key.serializer", StringSerializer.class.getName());
    p.put("value.serializer", StringSerializer.class.getName());
    p.put("linger.ms", "20");
    PaymentGenerator generator = new PaymentGenerator(System.nanoTime(), users, Long.MAX_VALUE,
        1000, 0, System.currentTimeMillis());
    feeder = new Thread(() -> {
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
        long start = System.nanoTime();
        for (long n = 0; !stopped; n++) {
          Payment e = generator.event(0, 1, n);
          Payment pay = n % 2_000 == 1_999 ? new Payment(e.id(), e.userId(),
              e.amountCents() * 20, e.merchant(), e.timestamp()) : e;
          producer.send(new ProducerRecord<>(KafkaFraudJob.PAYMENTS,
              String.valueOf(pay.userId()), KafkaFraudJob.format(pay)));
          written = n + 1;
          long due = start + (n + 1) * 1_000_000_000L / perSecond;
          long wait = due - System.nanoTime();
          if (wait > 1_000_000) {
            TimeUnit.NANOSECONDS.sleep(wait);
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "demo-payments-to-kafka");
    feeder.setDaemon(true);
  }

  /** Starts the broker in {@code logDir}, creates the topics if new, and starts writing. */
  static KafkaDemoFeed start(Path logDir, long users, long perSecond) {
    EmbeddedKafka kafka = EmbeddedKafka.startIn(logDir);
    try {
      if (!kafka.topicsExist(KafkaFraudJob.PAYMENTS, KafkaFraudJob.ALERTS)) {
        kafka.createTopics(PARTITIONS, KafkaFraudJob.PAYMENTS, KafkaFraudJob.ALERTS);
      }
      KafkaDemoFeed feed = new KafkaDemoFeed(kafka, users, perSecond);
      feed.feeder.start();
      return feed;
    } catch (RuntimeException e) {
      kafka.close();
      throw e;
    }
  }

  String bootstrapServers() {
    return kafka.bootstrapServers();
  }

  long written() {
    return written;
  }

  /** Alerts a {@code read_committed} reader sees in the topic now (every run's). */
  long committedAlerts() {
    try (KafkaConsumer<String, String> consumer =
        kafka.readCommittedFromStart(KafkaFraudJob.ALERTS)) {
      Set<TopicPartition> partitions = consumer.assignment();
      // With read_committed the end is the last stable offset: everything committed by now.
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      long count = 0;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))
          && System.nanoTime() < deadline) {
        count += consumer.poll(Duration.ofMillis(200)).count();
      }
      return count;
    }
  }

  @Override
  public void close() throws InterruptedException {
    stopped = true;
    feeder.join(10_000);
    kafka.close();
  }
}
