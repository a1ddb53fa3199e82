package io.stratus.scheduler.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class ClusterConfigTest {

  private static final String SECRET = "correct-horse-battery-staple";
  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  private static ClusterConfig loopback(int port, int range, int eventBusPort,
      List<String> members) {
    return new ClusterConfig("127.0.0.1", port, range, eventBusPort, members, null, TIMEOUT);
  }

  private static void refused(String expectedMessage, Executable build) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build);
    assertEquals(expectedMessage, e.getMessage());
  }

  @Test
  void aLoopbackMemberNeedsNoSecret() {
    ClusterConfig c = loopback(5701, 1, 0, List.of());
    assertEquals("127.0.0.1", c.bindHost());
    assertEquals(5701, c.port());
    assertEquals(List.of(), c.members());
    assertEquals(null, c.secret());
    new ClusterConfig("::1", 5701, 1, 0, List.of(), null, TIMEOUT);
    new ClusterConfig("127.0.0.2", 5701, 1, 0, List.of(), null, TIMEOUT);
  }

  @Test
  void aNonLoopbackBindHostWithoutASecretIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new ClusterConfig("10.1.2.3", 5701, 1, 0, List.of(), null, TIMEOUT));
    assertEquals("the cluster binds to 10.1.2.3, which is not a loopback address: a cluster "
        + "secret is required (--cluster-secret or STRATUS_CLUSTER_SECRET)", e.getMessage());
    assertTrue(e.getMessage().contains("--cluster-secret"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new ClusterConfig("0.0.0.0", 5701, 1, 0, List.of(), null, TIMEOUT));
    assertTrue(e.getMessage().contains("--cluster-secret"), e.getMessage());

    ClusterConfig withSecret = new ClusterConfig("10.1.2.3", 5701, 1, 0, List.of(), SECRET,
        TIMEOUT);
    assertEquals("10.1.2.3", withSecret.bindHost());
    assertEquals(SECRET, withSecret.secret());
  }

  @Test
  void aMissingBindHostIsRefused() {
    refused("cluster bind host is missing",
        () -> new ClusterConfig(null, 5701, 1, 0, List.of(), null, TIMEOUT));
    refused("cluster bind host is missing",
        () -> new ClusterConfig("  ", 5701, 1, 0, List.of(), null, TIMEOUT));
  }

  @Test
  void aShortSecretIsRefused() {
    refused("the cluster secret must be at least 16 characters",
        () -> new ClusterConfig("10.1.2.3", 5701, 1, 0, List.of(), "fifteen-chars!!", TIMEOUT));
    refused("the cluster secret must be at least 16 characters",
        () -> new ClusterConfig("127.0.0.1", 5701, 1, 0, List.of(), "", TIMEOUT));
    // Exactly 16 is enough.
    assertEquals("sixteen-chars!!!", new ClusterConfig("10.1.2.3", 5701, 1, 0, List.of(),
        "sixteen-chars!!!", TIMEOUT).secret());
  }

  @Test
  void membersMustBeHostColonPort() {
    for (String bad : List.of("coordinator", ":5701", "host:", "host:port", "host:123456",
        "host:57 01")) {
      refused("cluster member '" + bad + "' is not HOST:PORT with a port in 1..65535",
          () -> loopback(5701, 1, 0, List.of("127.0.0.1:5702", bad)));
    }
    ClusterConfig ok = loopback(5701, 1, 0,
        List.of("127.0.0.1:5702", "coordinator.internal:5701", "[::1]:5703"));
    assertEquals(List.of("127.0.0.1:5702", "coordinator.internal:5701", "[::1]:5703"),
        ok.members());
  }

  @Test
  void aMemberPortOutsideTheValidRangeIsRefused() {
    for (String bad : List.of("host:99999", "host:0")) {
      refused("cluster member '" + bad + "' is not HOST:PORT with a port in 1..65535",
          () -> loopback(5701, 1, 0, List.of(bad)));
    }
  }

  @Test
  void membersAreCopied() {
    List<String> members = new ArrayList<>(List.of("127.0.0.1:5702"));
    ClusterConfig c = loopback(5701, 1, 0, members);
    members.add("127.0.0.1:5703");
    assertEquals(List.of("127.0.0.1:5702"), c.members());
    assertThrows(UnsupportedOperationException.class, () -> c.members().add("x:1"));
  }

  @Test
  void portsMustBeInRange() {
    refused("cluster port must be 1..65535, got 0", () -> loopback(0, 1, 0, List.of()));
    refused("cluster port must be 1..65535, got 65536", () -> loopback(65536, 1, 0, List.of()));
    refused("cluster port must be 1..65535, got -1", () -> loopback(-1, 1, 0, List.of()));
    assertEquals(1, loopback(1, 1, 0, List.of()).port());
    assertEquals(65535, loopback(65535, 1, 0, List.of()).port());

    refused("cluster port range must be 1..65535, got 0", () -> loopback(1, 0, 0, List.of()));
    refused("cluster port range must be 1..1, got 2", () -> loopback(65535, 2, 0, List.of()));
    refused("cluster port range must be 1..6, got 7", () -> loopback(65530, 7, 0, List.of()));
    assertEquals(6, loopback(65530, 6, 0, List.of()).portRange());
    assertEquals(1, loopback(65535, 1, 0, List.of()).portRange());

    refused("event bus port must be 0..65535, got -1", () -> loopback(5701, 1, -1, List.of()));
    refused("event bus port must be 0..65535, got 65536",
        () -> loopback(5701, 1, 65536, List.of()));
    assertEquals(0, loopback(5701, 1, 0, List.of()).eventBusPort());
    assertEquals(65535, loopback(5701, 1, 65535, List.of()).eventBusPort());
  }

  @Test
  void theMemberTimeoutIsAtLeastASecond() {
    refused("cluster member timeout must be at least 1 s", () -> new ClusterConfig("127.0.0.1",
        5701, 1, 0, List.of(), null, Duration.ofMillis(999)));
    refused("cluster member timeout must be at least 1 s", () -> new ClusterConfig("127.0.0.1",
        5701, 1, 0, List.of(), null, Duration.ZERO));
    refused("cluster member timeout must be at least 1 s", () -> new ClusterConfig("127.0.0.1",
        5701, 1, 0, List.of(), null, null));
    assertEquals(Duration.ofSeconds(1), new ClusterConfig("127.0.0.1", 5701, 1, 0, List.of(),
        null, Duration.ofSeconds(1)).memberTimeout());
  }

  @Test
  void theClusterNameDerivesFromTheSecretWithoutRevealingIt() {
    assertEquals("stratus", loopback(5701, 1, 0, List.of()).clusterName());

    ClusterConfig a = new ClusterConfig("10.1.2.3", 5701, 1, 0, List.of(), SECRET, TIMEOUT);
    ClusterConfig sameSecret = new ClusterConfig("127.0.0.1", 5801, 3, 0,
        List.of("10.1.2.3:5701"), SECRET, Duration.ofSeconds(30));
    ClusterConfig b = new ClusterConfig("10.1.2.3", 5701, 1, 0, List.of(),
        "another-secret-entirely", TIMEOUT);

    String name = a.clusterName();
    assertTrue(name.matches("stratus-[0-9a-f]{24}"), name);
    assertEquals(name, a.clusterName());
    assertEquals(name, sameSecret.clusterName());
    assertNotEquals(name, b.clusterName());
    assertTrue(b.clusterName().matches("stratus-[0-9a-f]{24}"), b.clusterName());
    assertNotEquals("stratus", name);
    assertFalse(name.contains(SECRET), name);
    assertFalse(name.contains("correct"), name);
  }

  @Test
  void toStringNeverShowsTheSecret() {
    ClusterConfig c = new ClusterConfig("10.1.2.3", 5701, 2, 5801, List.of("10.1.2.4:5701"),
        SECRET, TIMEOUT);
    String s = c.toString();
    assertFalse(s.contains(SECRET), s);
    assertFalse(s.contains("correct-horse"), s);
    assertEquals("ClusterConfig[bindHost=10.1.2.3, port=5701, portRange=2, eventBusPort=5801, "
        + "members=[10.1.2.4:5701], secret=***, memberTimeout=PT5S, tls=none]", s);
    assertTrue(loopback(5701, 1, 0, List.of()).toString().contains("secret=none"),
        loopback(5701, 1, 0, List.of()).toString());
  }

  @Test
  void withMembersKeepsTheOtherFields() {
    ClusterConfig c = new ClusterConfig("10.1.2.3", 5702, 4, 5801, List.of("10.1.2.4:5701"),
        SECRET, Duration.ofSeconds(7));
    ClusterConfig joined = c.withMembers(List.of("10.1.2.5:5701", "10.1.2.6:5701"));
    assertEquals(new ClusterConfig("10.1.2.3", 5702, 4, 5801,
        List.of("10.1.2.5:5701", "10.1.2.6:5701"), SECRET, Duration.ofSeconds(7)), joined);
    assertEquals(c.clusterName(), joined.clusterName());
    assertEquals(List.of("10.1.2.4:5701"), c.members());
    refused("cluster member 'nope' is not HOST:PORT with a port in 1..65535",
        () -> c.withMembers(List.of("nope")));
  }
}
