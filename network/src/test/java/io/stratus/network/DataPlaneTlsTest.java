package io.stratus.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data plane over TLS, with certificates made by {@code openssl} for the test (skipped,
 * with the reason, where it is not installed).
 */
class DataPlaneTlsTest {

  @TempDir
  Path dir;
  private final List<DataPlane> planes = new ArrayList<>();

  @BeforeEach
  void certificates() throws Exception {
    for (String name : List.of("a", "b")) {
      Process p;
      try {
        p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
            "-days", "1", "-subj", "/CN=stratus-" + name,
            "-keyout", dir.resolve(name + "-key.pem").toString(),
            "-out", dir.resolve(name + "-cert.pem").toString())
            .redirectErrorStream(true).start();
      } catch (IOException e) {
        Assumptions.abort("openssl is not installed, so no test certificates: " + e);
        return;
      }
      p.getInputStream().readAllBytes();
      assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "openssl failed");
    }
    // Each end trusts both certificates.
    Files.writeString(dir.resolve("trusted.pem"), Files.readString(dir.resolve("a-cert.pem"))
        + Files.readString(dir.resolve("b-cert.pem")));
  }

  @AfterEach
  void close() {
    planes.forEach(DataPlane::close);
  }

  private DataPlaneConfig.Tls tls(String name, String trusted) {
    return new DataPlaneConfig.Tls(dir.resolve(name + "-cert.pem"),
        dir.resolve(name + "-key.pem"), dir.resolve(trusted));
  }

  private DataPlane plane(String id, DataPlaneConfig config, ChannelAcceptor acceptor) {
    DataPlane p = new DataPlane(id, config, acceptor);
    planes.add(p);
    p.start().join();
    return p;
  }

  @Test
  void recordsCrossATlsConnectionAndAnUntrustedPeerIsRefused() throws IOException {
    List<Long> received = new CopyOnWriteArrayList<>();
    ChannelAcceptor acceptor = (peer, key) -> new InboundChannel() {
      @Override
      public void onBuffer(ByteBuf payload, Runnable recycle) {
        while (payload.isReadable()) {
          received.add(payload.readLong());
        }
        payload.release();
        recycle.run();
      }

      @Override
      public void onFailure(PeerConnectionException error) {}
    };
    String secret = "tls-and-a-secret-too";
    DataPlane server = plane("b", DataPlaneConfig.defaults().withSecret(secret)
        .withTls(tls("b", "trusted.pem")), acceptor);
    DataPlane client = plane("a", DataPlaneConfig.defaults().withSecret(secret)
        .withTls(tls("a", "trusted.pem")), (p, k) -> null);
    OutboundChannel ch = client.open("b", server.address(), "x");
    for (long i = 0; i < 10_000; i++) {
      if (!ch.hasCapacity()) {
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(ch::hasCapacity);
      }
      ch.reserve(8).writeLong(i);
      ch.commit(false);
    }
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 10_000);
    for (int i = 0; i < 10_000; i++) {
      assertEquals(i, received.get(i));
    }

    // A peer whose certificate the server does not trust.
    Files.copy(dir.resolve("a-cert.pem"), dir.resolve("only-a.pem"));
    DataPlane strictServer = plane("c", DataPlaneConfig.defaults().withSecret(secret)
        .withTls(tls("a", "only-a.pem")), acceptor);
    DataPlane stranger = plane("d", DataPlaneConfig.defaults().withSecret(secret)
        .withTls(tls("b", "trusted.pem")), (p, k) -> null);
    OutboundChannel refused = stranger.open("c", strictServer.address(), "y");
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> refused.failure() != null);
    assertTrue(refused.failure().getMessage().contains("worker c"),
        refused.failure().getMessage());

    // A plain-TCP peer cannot talk to a TLS server.
    DataPlane plain = plane("e", DataPlaneConfig.defaults().withSecret(secret), (p, k) -> null);
    OutboundChannel clear = plain.open("b", server.address(), "z");
    Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> clear.failure() != null);
    assertEquals(10_000, received.size());
  }

  @Test
  void unreadableCertificateFilesAreNamed() throws IOException {
    Files.writeString(dir.resolve("junk.pem"), "not a certificate");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new DataPlane("x", DataPlaneConfig.defaults().withTls(new DataPlaneConfig.Tls(
            dir.resolve("junk.pem"), dir.resolve("a-key.pem"), dir.resolve("trusted.pem"))),
            (p, k) -> null));
    assertTrue(e.getMessage().contains("junk.pem"), e.getMessage());
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new DataPlaneConfig.Tls(
        dir.resolve("missing.pem"), dir.resolve("a-key.pem"), dir.resolve("trusted.pem")))
        .getMessage().contains("missing.pem"));
  }
}
