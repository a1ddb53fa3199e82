package io.stratus.runtime.execution;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.stratus.network.DataPlaneConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Channels between two workers' registries over their data servers: every element kind in
 * order into the consumer's inbox, the element format's validation, and what happens to the
 * channels of a released attempt.
 */
class RemoteChannelTest {

  private final List<ChannelRegistry> registries = new ArrayList<>();

  @AfterEach
  void close() {
    registries.forEach(ChannelRegistry::close);
  }

  private ChannelRegistry registry(String worker) {
    ChannelRegistry r = new ChannelRegistry(worker,
        DataPlaneConfig.defaults().withBuffers(1024, Duration.ofMillis(5), 2));
    registries.add(r);
    return r;
  }

  private static TaskPlacement placement(String self, ChannelRegistry consumer) {
    return new TaskPlacement(self, Map.of("0/0", "producer", "1/0", "consumer"),
        Map.of("consumer", consumer.dataAddress()));
  }

  private static final TaskSpec PRODUCER = new TaskSpec("job", 3, 0, 0, 1, null, null,
      List.of(), null);

  /** Waits (through {@link ChannelTarget#whenSpace}) until the target takes more. */
  private static void awaitSpace(ChannelTarget target) throws Exception {
    if (!target.hasSpace()) {
      java.util.concurrent.CompletableFuture<Void> space =
          new java.util.concurrent.CompletableFuture<>();
      target.whenSpace(() -> space.complete(null));
      space.get(10, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  private static List<StreamElement> drain(TaskInbox inbox, int count) {
    List<StreamElement> out = new ArrayList<>();
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> {
      StreamElement e;
      while ((e = inbox.poll()) != null) {
        out.add(e);
      }
      return out.size() >= count;
    });
    return out;
  }

  @Test
  void everyElementKindArrivesInOrderOnItsInput() {
    ChannelRegistry consumer = registry("consumer");
    ChannelRegistry producer = registry("producer");
    ChannelTarget target = producer.target(PRODUCER, placement("producer", consumer), 1, 0, 2,
        100);
    assertTrue(target instanceof RemoteTarget);
    List<StreamElement> sent = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      sent.add(i % 2 == 0 ? new StreamElement.Record(2, new byte[] {(byte) i, 1, 2}, i, null, -1)
          : new StreamElement.Record(2, new byte[40], -i, new byte[] {7, (byte) i}, i % 128));
      if (i % 100 == 0) {
        sent.add(new StreamElement.Watermark(2, i));
        sent.add(new StreamElement.Barrier(2, i / 100 + 1));
        sent.add(new StreamElement.WatermarkStatus(2, i % 200 == 0));
      }
    }
    sent.add(new StreamElement.End(2));
    TaskInbox inbox = consumer.inbox("job", 3, 1, 0, 100);
    List<StreamElement> got = new ArrayList<>();
    for (StreamElement e : sent) {
      if (!target.hasSpace()) {
        // The consumer reads (returning credits) while the producer waits for them.
        Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(1))
            .until(() -> {
              StreamElement in;
              while ((in = inbox.poll()) != null) {
                got.add(in);
              }
              return target.hasSpace();
            });
      }
      target.offer(e);
    }
    got.addAll(drain(inbox, sent.size() - got.size()));
    assertEquals(sent.size(), got.size());
    for (int i = 0; i < sent.size(); i++) {
      StreamElement a = sent.get(i);
      StreamElement b = got.get(i);
      if (a instanceof StreamElement.Record ra && b instanceof StreamElement.Record rb) {
        assertArrayEquals(ra.value(), rb.value());
        assertArrayEquals(ra.keyBytes(), rb.keyBytes());
        assertEquals(ra.timestamp(), rb.timestamp());
        assertEquals(ra.keyGroup(), rb.keyGroup());
        assertEquals(2, rb.input());
      } else {
        assertEquals(a, b, "element " + i);
      }
    }
  }

  @Test
  void malformedElementsAreRefusedAsAWhole() {
    ByteBuf ok = Unpooled.buffer();
    ElementCodec.write(new StreamElement.Record(0, new byte[5], 1, null, -1), ok);
    ElementCodec.validate(ok);
    ByteBuf truncated = ok.copy(0, ok.readableBytes() - 1);
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> ElementCodec.validate(truncated)).getMessage().contains("truncated"));
    ByteBuf unknown = Unpooled.buffer().writeByte(42);
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> ElementCodec.validate(unknown)).getMessage().contains("unknown element type"));
    ByteBuf negative = Unpooled.buffer().writeByte(1).writeLong(0).writeInt(-5);
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> ElementCodec.validate(negative)).getMessage().contains("negative length"));
  }

  @Test
  void aReleasedAttemptsLateChannelsAreDrainedAndItsTasksCannotOpenNew() throws Exception {
    ChannelRegistry consumer = registry("consumer");
    ChannelRegistry producer = registry("producer");
    consumer.release("job", 3);
    ChannelTarget late = producer.target(PRODUCER, placement("producer", consumer), 1, 0, 0,
        100);
    // Far more than the credits: the consumer frees and returns every buffer.
    for (int i = 0; i < 5_000; i++) {
      awaitSpace(late);
      late.offer(new StreamElement.Record(0, new byte[100], i, null, -1));
    }
    late.offer(new StreamElement.End(0));
    assertNull(((RemoteTarget) late).channel().failure());
    producer.release("job", 3);
    assertTrue(assertThrows(IllegalStateException.class, () -> producer.target(PRODUCER,
        placement("producer", consumer), 1, 0, 0, 100)).getMessage().contains("canceled"));
  }

  @Test
  void aLostConnectionFailsTheConsumersInboxNamingThePeer() {
    ChannelRegistry consumer = registry("consumer");
    ChannelRegistry producer = registry("producer");
    ChannelTarget target = producer.target(PRODUCER, placement("producer", consumer), 1, 0, 0,
        100);
    target.offer(new StreamElement.Barrier(0, 1));
    TaskInbox inbox = consumer.inbox("job", 3, 1, 0, 100);
    drain(inbox, 1);
    assertEquals(1, producer.dataPlane().disconnect("consumer", "test"));
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> inbox.failure() != null);
    assertTrue(inbox.failure().getMessage().contains("worker producer"),
        inbox.failure().getMessage());
  }
}
