package io.stratus.scheduler.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.network.DataPlaneConfig;
import io.vertx.core.eventbus.DeliveryOptions;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The event bus between members over TLS, with certificates made by {@code openssl} for the
 * test (skipped, with the reason, where it is not installed): members that trust each other's
 * certificates exchange messages; a member whose certificate is not trusted joins the
 * membership (that carries no messages) but gets no message through.
 */
class ClusterNodeTlsTest {

  @TempDir
  Path dir;
  private final List<ClusterNode> nodes = new ArrayList<>();

  @BeforeEach
  void certificates() throws Exception {
    for (String name : List.of("a", "b", "stranger")) {
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
    Files.writeString(dir.resolve("members.pem"), Files.readString(dir.resolve("a-cert.pem"))
        + Files.readString(dir.resolve("b-cert.pem")));
  }

  @AfterEach
  void close() {
    nodes.forEach(ClusterNode::close);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private ClusterNode node(String name, String trusted, int port, List<String> members) {
    ClusterConfig config = new ClusterConfig("127.0.0.1", port, 1, 0, members, null,
        Duration.ofSeconds(5)).withTls(new DataPlaneConfig.Tls(dir.resolve(name + "-cert.pem"),
        dir.resolve(name + "-key.pem"), dir.resolve(trusted)));
    ClusterNode node = ClusterNode.join(config).join();
    nodes.add(node);
    return node;
  }

  @Test
  void membersThatTrustEachOtherTalkAndAStrangerGetsNothingThrough() throws Exception {
    int portA = freePort();
    ClusterNode a = node("a", "members.pem", portA, List.of());
    a.vertx().eventBus().consumer("tls.echo", m -> m.reply("echo " + m.body()))
        .completion().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    ClusterNode b = node("b", "members.pem", freePort(), List.of("127.0.0.1:" + portA));
    assertEquals("echo hello", b.vertx().eventBus().request("tls.echo", "hello",
            new DeliveryOptions().setSendTimeout(10_000)).toCompletionStage()
        .toCompletableFuture().get(15, TimeUnit.SECONDS).body());

    ClusterNode stranger = node("stranger", "stranger-cert.pem", freePort(),
        List.of("127.0.0.1:" + portA));
    assertTrue(stranger.members().size() >= 2, "the stranger did not even join: "
        + stranger.members());
    ExecutionException refused = assertThrows(ExecutionException.class, () -> stranger.vertx()
        .eventBus().request("tls.echo", "let me in", new DeliveryOptions().setSendTimeout(3_000))
        .toCompletionStage().toCompletableFuture().get(15, TimeUnit.SECONDS));
    assertTrue(refused.getCause() != null, "no reason given");
  }
}
