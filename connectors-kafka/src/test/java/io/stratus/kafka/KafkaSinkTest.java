package io.stratus.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.kafka.embedded.EmbeddedKafka;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.sink.SinkWriter;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.ObjectStore;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kafka sink's protocol on its own, against a real broker: staged output is invisible until
 * committed, a commit repeated (after a coordinator failure) or interrupted between the Kafka
 * commit and the delete of the staged object publishes nothing twice, staged output of
 * checkpoints that never completed is deleted when asked and only then, and the at-least-once
 * writer's barrier makes its records durable.
 */
@ExtendWith(SharedKafka.class)
class KafkaSinkTest {

  private static EmbeddedKafka kafka;

  @TempDir
  Path dir;

  @BeforeAll
  static void kafka(EmbeddedKafka shared) {
    kafka = shared;
  }

  private KafkaSink<String> exactlyOnce(String topic, ObjectStore objects) {
    return KafkaSink.builder(kafka.bootstrapServers(), Serdes.TEXT).topic(topic)
        .exactlyOnce("sink-" + topic, objects, "staging").build();
  }

  @Test
  void stagedOutputIsPublishedOnceHoweverOftenItIsCommitted() throws Exception {
    kafka.createTopics(2, "once");
    ObjectStore objects = new LocalDirectoryObjectStore(dir.resolve("bucket"));
    KafkaSink<String> sink = exactlyOnce("once", objects);
    SinkWriter<String> writer = sink.createWriter(0, 1);
    for (String s : List.of("a", "b", "c")) {
      writer.write(s);
    }
    List<String> staged = writer.prepareCommit(1).get(30, TimeUnit.SECONDS);
    assertEquals(1, staged.size());
    byte[] bytes = objects.get(staged.get(0)).join();
    assertEquals(List.of(), readCommitted("once"), "visible before its checkpoint completed");

    sink.commit(staged).get(30, TimeUnit.SECONDS);
    assertEquals(List.of("a", "b", "c"), sorted(readCommitted("once")));
    assertFalse(objects.head(staged.get(0)).join().isPresent(), "published, so deleted");

    // Committed again (a restart re-commits its restore point): nothing twice.
    sink.commit(staged).get(30, TimeUnit.SECONDS);
    // Interrupted after Kafka committed but before the delete: the object is back.
    objects.put(staged.get(0), bytes).join();
    sink.commit(staged).get(30, TimeUnit.SECONDS);
    assertEquals(List.of("a", "b", "c"), sorted(readCommitted("once")));
    assertFalse(objects.head(staged.get(0)).join().isPresent());

    // The next checkpoint's output after all that is published as usual.
    writer.write("d");
    sink.commit(writer.prepareCommit(2).get(30, TimeUnit.SECONDS)).get(30, TimeUnit.SECONDS);
    assertEquals(List.of("a", "b", "c", "d"), sorted(readCommitted("once")));
  }

  @Test
  void outputOfCheckpointsThatNeverCompletedIsDeletedOnlyWhenAsked() throws Exception {
    kafka.createTopics(1, "aborted");
    ObjectStore objects = new LocalDirectoryObjectStore(dir.resolve("bucket"));
    KafkaSink<String> sink = exactlyOnce("aborted", objects);
    SinkWriter<String> writer = sink.createWriter(0, 1);
    writer.write("lost");
    String never = writer.prepareCommit(1).get(30, TimeUnit.SECONDS).get(0);
    writer.write("kept");
    String restorable = writer.prepareCommit(2).get(30, TimeUnit.SECONDS).get(0);
    assertTrue(objects.head(never).join().isPresent());

    assertEquals(1, sink.abortStaged(Instant.now().plusSeconds(1), Set.of(restorable))
        .get(30, TimeUnit.SECONDS));
    assertFalse(objects.head(never).join().isPresent());
    assertTrue(objects.head(restorable).join().isPresent(), "a later run commits it");
    sink.commit(List.of(restorable)).get(30, TimeUnit.SECONDS);
    assertEquals(List.of("kept"), readCommitted("aborted"));
  }

  @Test
  void theAtLeastOnceBarrierFlushesWhatWasWritten() throws Exception {
    kafka.createTopics(1, "flushed");
    KafkaSink<String> sink = KafkaSink.builder(kafka.bootstrapServers(), Serdes.TEXT)
        .topic("flushed").property("linger.ms", 60_000).build();
    SinkWriter<String> writer = sink.createWriter(0, 1);
    for (int i = 0; i < 100; i++) {
      writer.write(String.valueOf(i));
    }
    // Held by a minute's linger unless the barrier flushes.
    assertEquals(List.of(), writer.prepareCommit(1).get(30, TimeUnit.SECONDS));
    assertEquals(100, readCommitted("flushed").size());
    writer.close();
  }

  @Test
  void settingsTheSinkOwnsAreRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
        KafkaSink.builder(kafka.bootstrapServers(), Serdes.TEXT).property("transactional.id",
            "x"));
    assertEquals("the Kafka sink sets 'transactional.id' itself", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () ->
        KafkaSink.builder(kafka.bootstrapServers(), Serdes.TEXT).build());
    assertEquals("a Kafka sink needs a topic", e.getMessage());
  }

  private static List<String> sorted(List<String> values) {
    List<String> out = new ArrayList<>(values);
    out.sort(null);
    return out;
  }

  /** Every record of the topic a read_committed reader sees now. */
  private static List<String> readCommitted(String topic) {
    List<String> out = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = kafka.readCommittedFromStart(topic)) {
      var partitions = consumer.assignment();
      var end = consumer.endOffsets(partitions);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))
          && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(100)).forEach(r -> out.add(r.value()));
      }
    }
    return out;
  }
}
