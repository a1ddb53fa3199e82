package io.stratus.scheduler.cluster;

import io.stratus.network.DataPlaneConfig;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * How a process joins the cluster: the Hazelcast member it runs (membership and the Vert.x
 * event bus's subscriptions) and the event bus's own TCP server. Members find each other
 * through an explicit list of addresses, never multicast. Checked when built, with messages that
 * name the field; {@link #loopback} works on a laptop.
 *
 * @param bindHost      the address both servers bind to and other members reach this one at;
 *                      without a {@code secret} it must be a loopback address
 * @param port          the membership port (a coordinator's is what workers name in
 *                      {@code --coordinator}); with {@code portRange} &gt; 1 the next free one
 *                      of that many is taken (workers sharing a machine)
 * @param portRange     how many ports from {@code port} may be tried, 1 for exactly {@code port}
 * @param eventBusPort  the event bus's TCP port, 0 for any free one
 * @param members       {@code host:port} of members to join (coordinators, and the workers a
 *                      restarted coordinator finds in the bucket); empty to start a cluster
 * @param secret        the cluster secret (at least 16 characters), or null on loopback: the
 *                      cluster's name is derived from it, so a member with another secret
 *                      cannot join (it ends up alone and says so)
 * @param memberTimeout how long a member that stopped answering stays a member (a killed
 *                      process is usually noticed at once, by its closed connections)
 * @param tls           the member's certificate, key and the certificates it trusts: the event
 *                      bus then runs over TLS, both ends presenting a certificate; null for
 *                      plain TCP. Membership (Hazelcast's own connections, which carry only who
 *                      is a member and which node listens on which address) stays plain TCP.
 */
public record ClusterConfig(String bindHost, int port, int portRange, int eventBusPort,
    List<String> members, String secret, Duration memberTimeout, DataPlaneConfig.Tls tls) {

  /** The membership port a coordinator listens on unless told otherwise. */
  public static final int DEFAULT_PORT = 5701;

  public ClusterConfig {
    if (bindHost == null || bindHost.isBlank()) {
      throw new IllegalArgumentException("cluster bind host is missing");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("cluster port must be 1..65535, got " + port);
    }
    if (portRange < 1 || port + portRange - 1 > 65535) {
      throw new IllegalArgumentException("cluster port range must be 1.." + (65536 - port)
          + ", got " + portRange);
    }
    if (eventBusPort < 0 || eventBusPort > 65535) {
      throw new IllegalArgumentException("event bus port must be 0..65535, got "
          + eventBusPort);
    }
    members = List.copyOf(members);
    for (String m : members) {
      int colon = m.lastIndexOf(':');
      if (colon <= 0 || !m.substring(colon + 1).matches("\\d{1,5}")
          || Integer.parseInt(m.substring(colon + 1)) < 1
          || Integer.parseInt(m.substring(colon + 1)) > 65535) {
        throw new IllegalArgumentException("cluster member '" + m + "' is not HOST:PORT with a "
            + "port in 1..65535");
      }
    }
    if (secret != null && secret.length() < 16) {
      throw new IllegalArgumentException("the cluster secret must be at least 16 characters");
    }
    if (secret == null && !isLoopback(bindHost)) {
      throw new IllegalArgumentException("the cluster binds to " + bindHost + ", which is not "
          + "a loopback address: a cluster secret is required (--cluster-secret or "
          + "STRATUS_CLUSTER_SECRET)");
    }
    if (memberTimeout == null || memberTimeout.toSeconds() < 1) {
      throw new IllegalArgumentException("cluster member timeout must be at least 1 s");
    }
  }

  /** A configuration without TLS. */
  public ClusterConfig(String bindHost, int port, int portRange, int eventBusPort,
      List<String> members, String secret, Duration memberTimeout) {
    this(bindHost, port, portRange, eventBusPort, members, secret, memberTimeout, null);
  }

  public ClusterConfig withMembers(List<String> join) {
    return new ClusterConfig(bindHost, port, portRange, eventBusPort, join, secret,
        memberTimeout, tls);
  }

  public ClusterConfig withTls(DataPlaneConfig.Tls value) {
    return new ClusterConfig(bindHost, port, portRange, eventBusPort, members, secret,
        memberTimeout, value);
  }

  /**
   * The cluster's name: fixed without a secret; with one, a keyed digest of it, so members
   * with different secrets form different clusters and the name does not reveal the secret.
   */
  public String clusterName() {
    if (secret == null) {
      return "stratus";
    }
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      byte[] digest = mac.doFinal("stratus cluster name".getBytes(StandardCharsets.UTF_8));
      return "stratus-" + HexFormat.of().formatHex(digest, 0, 12);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  }

  private static boolean isLoopback(String host) {
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("cluster bind host '" + host + "' is unknown", e);
    }
  }

  @Override
  public String toString() {
    return "ClusterConfig[bindHost=" + bindHost + ", port=" + port + ", portRange=" + portRange
        + ", eventBusPort=" + eventBusPort + ", members=" + members + ", secret="
        + (secret == null ? "none" : "***") + ", memberTimeout=" + memberTimeout + ", tls="
        + (tls == null ? "none" : tls.certificateChain()) + "]";
  }
}
