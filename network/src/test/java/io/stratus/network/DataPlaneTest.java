package io.stratus.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Two data planes in this JVM on loopback: channels, credits, ordering, failures, the
 * handshake, and what the server does with bytes that are not frames.
 */
class DataPlaneTest {

  private static final String SECRET = "a-cluster-secret-of-some-length";
  private final List<AutoCloseable> open = new ArrayList<>();

  /** A consumer that records what it receives; buffers are recycled only when told. */
  static final class Sink implements ChannelAcceptor {
    final Map<String, List<Long>> received = new ConcurrentHashMap<>();
    final Map<String, List<Runnable>> unrecycled = new ConcurrentHashMap<>();
    final Map<String, PeerConnectionException> failures = new ConcurrentHashMap<>();
    final List<String> accepted = new CopyOnWriteArrayList<>();
    volatile boolean recycle = true;

    @Override
    public InboundChannel accept(String peer, String key) {
      accepted.add(peer + ":" + key);
      List<Long> values = received.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>());
      return new InboundChannel() {
        @Override
        public void onBuffer(ByteBuf payload, Runnable recycled) {
          while (payload.isReadable()) {
            values.add(payload.readLong());
          }
          payload.release();
          if (recycle) {
            recycled.run();
          } else {
            unrecycled.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>()).add(recycled);
          }
        }

        @Override
        public void onFailure(PeerConnectionException error) {
          failures.put(key, error);
        }
      };
    }

    void recycleAll(String key) {
      List<Runnable> waiting = unrecycled.remove(key);
      if (waiting != null) {
        waiting.forEach(Runnable::run);
      }
    }
  }

  private DataPlane plane(String id, DataPlaneConfig config, ChannelAcceptor acceptor) {
    DataPlane p = new DataPlane(id, config, acceptor);
    open.add(p);
    p.start().join();
    return p;
  }

  private static DataPlaneConfig small() {
    // Buffers of 1 KiB: 128 longs each, so credits run out after a few hundred values.
    return DataPlaneConfig.defaults().withBuffers(1024, Duration.ofMillis(5), 2);
  }

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : open) {
      c.close();
    }
  }

  private static void send(OutboundChannel ch, long value, boolean flush) {
    ch.reserve(8).writeLong(value);
    ch.commit(flush);
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 5})
  void channelsDeliverEveryValueInOrder(int flushMillis) {
    Sink sink = new Sink();
    DataPlane server = plane("consumer", DataPlaneConfig.defaults().withBuffers(1024,
        Duration.ofMillis(flushMillis), 2), sink);
    DataPlane client = plane("producer", small(), (p, k) -> {
      throw new IllegalArgumentException("no channels to the producer");
    });
    List<OutboundChannel> channels = new ArrayList<>();
    for (int c = 0; c < 3; c++) {
      channels.add(client.open("consumer", server.address(), "ch" + c));
    }
    int[] counts = {5_000, 700, 1};
    for (int c = 0; c < channels.size(); c++) {
      for (int i = 0; i < counts[c]; i++) {
        awaitCapacity(channels.get(c));
        send(channels.get(c), i, false);
      }
    }
    for (int c = 0; c < channels.size(); c++) {
      int expected = counts[c];
      String key = "ch" + c;
      Awaitility.await().atMost(Duration.ofSeconds(10))
          .until(() -> sink.received.getOrDefault(key, List.of()).size() == expected);
      List<Long> got = sink.received.get(key);
      for (int i = 0; i < expected; i++) {
        assertEquals(i, got.get(i), key + " out of order at " + i);
      }
    }
    assertEquals(1, client.connections(), "one connection carries every channel to the peer");
  }

  /** Goes on the moment the channel has capacity, as a task does (no polling interval). */
  private static void awaitCapacityPromptly(OutboundChannel ch) throws InterruptedException {
    if (!ch.hasCapacity()) {
      CountDownLatch ready = new CountDownLatch(1);
      ch.whenCapacity(ready::countDown);
      assertTrue(ready.await(10, TimeUnit.SECONDS), "no capacity within 10 s");
    }
  }

  private static void awaitCapacity(OutboundChannel ch) {
    if (!ch.hasCapacity()) {
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(ch::hasCapacity);
    }
  }

  @Test
  void aConsumerThatStopsHoldsBackOnlyItsOwnChannel() {
    Sink sink = new Sink();
    DataPlane server = plane("consumer", small(), sink);
    DataPlane client = plane("producer", small(), (p, k) -> null);
    OutboundChannel stuck = client.open("consumer", server.address(), "stuck");
    OutboundChannel other = client.open("consumer", server.address(), "other");
    sink.recycle = false;
    // The stuck channel fills its credits (2 buffers at the consumer) and its backlog (one
    // more sealed at the producer), then says it has no capacity.
    int written = 0;
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      if (!stuck.hasCapacity()) {
        // Buffers sealed before the event loop sent them on credit also count: it must stay so.
        try {
          Awaitility.await().pollInterval(Duration.ofMillis(10)).during(Duration.ofMillis(100))
              .atMost(Duration.ofSeconds(1)).until(() -> !stuck.hasCapacity());
          break;
        } catch (org.awaitility.core.ConditionTimeoutException e) {
          continue;
        }
      }
      send(stuck, written++, false);
    }
    assertFalse(stuck.hasCapacity(), "a consumer that takes nothing must stop its producer");
    assertTrue(written <= 4 * 128, "the producer ran ahead by " + written + " values, more than"
        + " credits + backlog + one buffer allow");
    // The other channel on the same connection goes on while its consumer recycles.
    AtomicInteger moved = new AtomicInteger();
    for (int i = 0; i < 2_000; i++) {
      if (!other.hasCapacity()) {
        // Buffers still on the way are recycled as they arrive.
        Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(1))
            .until(() -> {
              sink.recycleAll("other");
              return other.hasCapacity();
            });
      }
      send(other, i, false);
      moved.incrementAndGet();
    }
    sink.recycleAll("other");
    sink.recycle = true;
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> {
      sink.recycleAll("other");
      return sink.received.getOrDefault("other", List.of()).size() == 2_000;
    });
    assertFalse(stuck.hasCapacity());
    // Once the stuck consumer takes its buffers, everything it was sent arrives.
    int sent = written;
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> {
      sink.recycleAll("stuck");
      return sink.received.get("stuck").size() == sent;
    });
  }

  @Test
  void aLostConnectionFailsChannelsOnBothSidesNamingThePeer() {
    Sink sink = new Sink();
    DataPlane server = plane("consumer-1", small(), sink);
    DataPlane client = plane("producer-1", small(), (p, k) -> null);
    OutboundChannel ch = client.open("consumer-1", server.address(), "a");
    AtomicReference<PeerConnectionException> seen = new AtomicReference<>();
    ch.onFailure(seen::set);
    send(ch, 1, true);
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> sink.received.containsKey("a")
        && sink.received.get("a").size() == 1);
    long start = System.nanoTime();
    assertEquals(1, client.disconnect("consumer-1", "test"));
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> seen.get() != null
        && sink.failures.containsKey("a"));
    assertTrue(System.nanoTime() - start < Duration.ofSeconds(2).toNanos(),
        "failure must be seen at once, not after a timeout");
    assertTrue(seen.get().getMessage().contains("worker consumer-1"), seen.get().getMessage());
    assertEquals("producer-1", sink.failures.get("a").peer());
    assertThrows(PeerConnectionException.class, () -> ch.reserve(8));
    // A new channel dials again.
    OutboundChannel again = client.open("consumer-1", server.address(), "b");
    send(again, 7, true);
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> sink.received.containsKey("b")
        && sink.received.get("b").size() == 1);
  }

  @Test
  void aPeerThatCannotBeReachedFailsTheChannel() throws IOException {
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1,
        java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    DataPlane client = plane("p", small(), (p, k) -> null);
    OutboundChannel ch = client.open("nobody", new InetSocketAddress("127.0.0.1", port), "x");
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> ch.failure() != null);
    assertTrue(ch.failure().getMessage().contains("worker nobody at 127.0.0.1:" + port),
        ch.failure().getMessage());
  }

  @Test
  void theHandshakeRefusesAWrongSecretWithoutLeakingIt() {
    Sink sink = new Sink();
    DataPlane server = plane("consumer", small().withSecret(SECRET), sink);
    DataPlane wrong = plane("intruder", small().withSecret("another-secret-entirely"),
        (p, k) -> null);
    DataPlane none = plane("anonymous", small(), (p, k) -> null);
    DataPlane right = plane("producer", small().withSecret(SECRET), (p, k) -> null);
    OutboundChannel bad = wrong.open("consumer", server.address(), "bad");
    OutboundChannel anon = none.open("consumer", server.address(), "anon");
    OutboundChannel good = right.open("consumer", server.address(), "good");
    send(good, 42, true);
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> bad.failure() != null
        && anon.failure() != null && sink.received.containsKey("good"));
    assertTrue(bad.failure().getMessage().contains("cluster secret"),
        bad.failure().getMessage());
    assertFalse(bad.failure().getMessage().contains(SECRET));
    assertFalse(bad.failure().getMessage().contains("another-secret-entirely"));
    assertTrue(anon.failure().getMessage().contains("cluster secret"),
        anon.failure().getMessage());
    assertEquals(List.of("producer:good"), sink.accepted);
    assertEquals(List.of(42L), sink.received.get("good"));
  }

  @Test
  void dialingTheWrongWorkerIsRefused() {
    DataPlane server = plane("worker-3", small(), new Sink());
    DataPlane client = plane("worker-1", small(), (p, k) -> null);
    OutboundChannel ch = client.open("worker-2", server.address(), "x");
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> ch.failure() != null);
    assertTrue(ch.failure().getMessage().contains("worker-3"), ch.failure().getMessage());
  }

  /** Bytes that are not frames: the connection closes, nothing is delivered, others go on. */
  @ParameterizedTest
  @ValueSource(strings = {"garbage", "huge-length", "bad-checksum", "truncated",
      "data-before-handshake"})
  void badBytesCloseTheirConnectionOnly(String kind) throws Exception {
    Sink sink = new Sink();
    DataPlane server = plane("consumer", small(), sink);
    DataPlane client = plane("producer", small(), (p, k) -> null);
    OutboundChannel good = client.open("consumer", server.address(), "good");
    send(good, 1, true);
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> sink.received.containsKey("good")
        && sink.received.get("good").size() == 1);
    try (Socket s = new Socket("127.0.0.1", server.address().getPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      ByteBuf frame = switch (kind) {
        case "garbage" -> ByteBufAllocator.DEFAULT.buffer().writeBytes(
            "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes());
        case "huge-length" -> ByteBufAllocator.DEFAULT.buffer().writeInt(1 << 30)
            .writeBytes(new byte[16]);
        case "bad-checksum" -> {
          ByteBuf f = Handshake.hello(ByteBufAllocator.DEFAULT, "x", "consumer",
              Handshake.nonce());
          f.setByte(f.writerIndex() - 1, f.getByte(f.writerIndex() - 1) ^ 1);
          yield f;
        }
        case "truncated" -> {
          ByteBuf f = Handshake.hello(ByteBufAllocator.DEFAULT, "x", "consumer",
              Handshake.nonce());
          yield f.writerIndex(f.writerIndex() - 10);
        }
        default -> {
          ByteBuf f = Frames.allocate(ByteBufAllocator.DEFAULT, 8);
          f.writeLong(99);
          yield Frames.seal(f, Frames.DATA, 1);
        }
      };
      byte[] bytes = new byte[frame.readableBytes()];
      frame.readBytes(bytes);
      frame.release();
      out.write(bytes);
      out.flush();
      if (kind.equals("truncated")) {
        // Half a frame and silence: closed at the handshake timeout, never delivered.
        s.shutdownOutput();
      }
      InputStream in = s.getInputStream();
      long start = System.nanoTime();
      while (in.read() >= 0) {
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(10).toNanos());
      }
    }
    assertEquals(List.of("producer:good"), sink.accepted);
    send(good, 2, true);
    Awaitility.await().atMost(Duration.ofSeconds(5))
        .until(() -> sink.received.get("good").size() == 2);
    assertEquals(List.of(1L, 2L), sink.received.get("good"));
    assertNotNull(server.address());
  }

  @Test
  void anElementLargerThanABufferTravelsInAFrameOfItsOwn() {
    Sink sink = new Sink();
    DataPlane server = plane("consumer", small(), sink);
    DataPlane client = plane("producer", small(), (p, k) -> null);
    OutboundChannel ch = client.open("consumer", server.address(), "big");
    ByteBuf buf = ch.reserve(8 * 1000);
    for (int i = 0; i < 1000; i++) {
      buf.writeLong(i);
    }
    ch.commit(true);
    Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> sink.received.containsKey("big")
        && sink.received.get("big").size() == 1000);
    assertThrows(IllegalArgumentException.class, () -> ch.reserve(65 << 20));
  }

  @Test
  void configurationIsCheckedWithMessagesNamingTheField() {
    IllegalArgumentException open = assertThrows(IllegalArgumentException.class,
        () -> DataPlaneConfig.defaults().withBind("0.0.0.0", 0));
    assertTrue(open.getMessage().contains("without a cluster secret"), open.getMessage());
    DataPlaneConfig.defaults().withSecret(SECRET).withBind("0.0.0.0", 0);
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> DataPlaneConfig.defaults().withSecret("short")).getMessage()
        .contains("at least 16"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> DataPlaneConfig.defaults().withBuffers(100, Duration.ZERO, 2)).getMessage()
        .contains("bufferBytes"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> DataPlaneConfig.defaults().withBuffers(4096, Duration.ZERO, 0)).getMessage()
        .contains("creditsPerChannel"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> DataPlaneConfig.defaults().withDebloatTarget(Duration.ofMillis(-1))).getMessage()
        .contains("debloatTarget"));
    assertFalse(DataPlaneConfig.defaults().withSecret(SECRET).toString().contains(SECRET));
  }

  @Test
  void aPortInUseIsNamed() {
    DataPlane first = plane("a", small(), new Sink());
    DataPlane second = new DataPlane("b", small().withBind("127.0.0.1",
        first.address().getPort()), new Sink());
    open.add(second);
    Exception e = assertThrows(Exception.class, () -> second.start().join());
    assertTrue(e.getMessage().contains("127.0.0.1:" + first.address().getPort()),
        e.getMessage());
  }

  /**
   * A consumer that takes 20 KB/s (a task waiting for slow state) gets buffers of about its
   * throughput times the debloat target over the buffers that can wait (so a barrier waits
   * about that long), not 8 KiB ones; when it keeps up again they grow back to full size.
   * Without a target they stay full.
   */
  @ParameterizedTest
  @ValueSource(ints = {200, 0})
  void buffersShrinkToASlowConsumersThroughput(int targetMillis) throws Exception {
    ScheduledExecutorService consumerClock = Executors.newSingleThreadScheduledExecutor();
    long bytesPerSecond = 20_000;
    long[] busyUntil = {System.nanoTime()};
    List<Integer> frameBytes = new CopyOnWriteArrayList<>();
    AtomicInteger received = new AtomicInteger();
    AtomicBoolean slow = new AtomicBoolean(true);
    ChannelAcceptor consumer = (peer, key) -> new InboundChannel() {
      @Override
      public void onBuffer(ByteBuf payload, Runnable recycle) {
        int bytes = payload.readableBytes();
        frameBytes.add(bytes);
        received.addAndGet(bytes / 8);
        payload.release();
        if (!slow.get()) {
          recycle.run();
          return;
        }
        synchronized (busyUntil) {
          long start = Math.max(System.nanoTime(), busyUntil[0]);
          busyUntil[0] = start + bytes * 1_000_000_000L / bytesPerSecond;
          consumerClock.schedule(recycle, busyUntil[0] - System.nanoTime(),
              TimeUnit.NANOSECONDS);
        }
      }

      @Override
      public void onFailure(PeerConnectionException error) {}
    };
    DataPlaneConfig config = DataPlaneConfig.defaults()
        .withBuffers(8192, Duration.ofMillis(5), 2)
        .withDebloatTarget(Duration.ofMillis(targetMillis));
    DataPlane server = plane("consumer", config, consumer);
    DataPlane client = plane("producer", config, (p, k) -> null);
    OutboundChannel ch = client.open("consumer", server.address(), "slow");
    try {
      long sent = 0;
      long slowUntil = System.nanoTime() + Duration.ofMillis(2500).toNanos();
      while (System.nanoTime() < slowUntil) {
        awaitCapacityPromptly(ch);
        send(ch, sent++, false);
      }
      // 20 KB/s x 200 ms over 3 buffers that can wait (2 credits + 1): about 1.3 KB.
      int expectedSeal = targetMillis == 0 ? 8192 : (int) (bytesPerSecond * targetMillis / 1000 / 3);
      int seal = ch.sealBytes();
      assertTrue(seal >= expectedSeal / 3 && seal <= expectedSeal * 3,
          "sealing at " + seal + " bytes, expected about " + expectedSeal);
      if (targetMillis > 0) {
        List<Integer> last = frameBytes.subList(frameBytes.size() - 5, frameBytes.size());
        assertTrue(last.stream().allMatch(b -> b <= 3 * expectedSeal), "last frames " + last);
      }
      slow.set(false);
      for (int i = 0; i < 200_000; i++) {
        awaitCapacityPromptly(ch);
        send(ch, sent++, false);
      }
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> ch.sealBytes() == 8192);
      long total = sent;
      Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> received.get() == total);
    } finally {
      consumerClock.shutdownNow();
    }
  }
}
