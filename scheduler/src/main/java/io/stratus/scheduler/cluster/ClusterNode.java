package io.stratus.scheduler.cluster;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.config.Config;
import com.hazelcast.config.NetworkConfig;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This process as a member of the cluster: a Vert.x instance whose event bus is clustered
 * through Hazelcast (membership, and which node listens on which address), so the coordinator
 * and workers exchange the same protocol messages between hosts as within one process. We
 * write no membership protocol: Hazelcast's member list and failure detector decide who is in,
 * and this class only reports members that leave ({@link #onMemberLeft}).
 */
public final class ClusterNode implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterNode.class);

  private final Vertx vertx;
  private final HazelcastClusterManager manager;
  private final List<Consumer<String>> leftListeners = new CopyOnWriteArrayList<>();
  private final List<Runnable> changeListeners = new CopyOnWriteArrayList<>();

  private ClusterNode(Vertx vertx, HazelcastClusterManager manager) {
    this.vertx = vertx;
    this.manager = manager;
    manager.getHazelcastInstance().getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
        LOG.info("Cluster member joined: {}", event.getMember().getAddress());
        changeListeners.forEach(Runnable::run);
      }

      @Override
      public void memberRemoved(MembershipEvent event) {
        String id = event.getMember().getUuid().toString();
        LOG.info("Cluster member left: {} (node {})", event.getMember().getAddress(), id);
        leftListeners.forEach(l -> l.accept(id));
        changeListeners.forEach(Runnable::run);
      }
    });
  }

  /**
   * Starts this process's member and joins the members {@code config} lists (or starts a
   * cluster of one if none answers).
   *
   * @throws IllegalStateException (in the future) naming the address when the ports cannot be
   *         bound
   */
  public static CompletableFuture<ClusterNode> join(ClusterConfig config) {
    long start = System.nanoTime();
    HazelcastClusterManager manager = new HazelcastClusterManager(hazelcast(config));
    EventBusOptions eventBus = new EventBusOptions().setHost(config.bindHost())
        .setPort(config.eventBusPort()).setClusterPublicHost(config.bindHost());
    if (config.tls() != null) {
      eventBus.setSsl(true).setClientAuth(ClientAuth.REQUIRED)
          .setKeyCertOptions(new PemKeyCertOptions()
              .setCertPath(config.tls().certificateChain().toString())
              .setKeyPath(config.tls().privateKey().toString()))
          .setTrustOptions(new PemTrustOptions()
              .addCertPath(config.tls().trustedCertificates().toString()));
    }
    VertxOptions options = new VertxOptions().setEventBusOptions(eventBus);
    return Vertx.builder().with(options).withClusterManager(manager).buildClustered()
        .toCompletionStage().toCompletableFuture()
        .handle((vertx, e) -> {
          if (e != null) {
            throw new IllegalStateException("cannot join the cluster as " + config.bindHost()
                + ":" + config.port() + (config.portRange() > 1 ? "+" : "") + ": "
                + rootMessage(e), e);
          }
          ClusterNode node = new ClusterNode(vertx, manager);
          LOG.info("Joined the cluster in {} ms as {}; members: {}",
              (System.nanoTime() - start) / 1_000_000, node.nodeId(), node.members());
          return node;
        });
  }

  private static Config hazelcast(ClusterConfig config) {
    Config hz = new Config();
    hz.setClusterName(config.clusterName());
    hz.setInstanceName("stratus-" + ProcessHandle.current().pid() + "-" + config.port());
    // Quick to join and to notice a member gone; no call home, no JVM shutdown hook (the
    // process closes its node after its jobs), logs through SLF4J.
    hz.setProperty("hazelcast.logging.type", "slf4j");
    hz.setProperty("hazelcast.phone.home.enabled", "false");
    hz.setProperty("hazelcast.shutdownhook.enabled", "false");
    hz.setProperty("hazelcast.wait.seconds.before.join", "0");
    hz.setProperty("hazelcast.max.wait.seconds.before.join", "0");
    hz.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    hz.setProperty("hazelcast.max.no.heartbeat.seconds",
        String.valueOf(Math.max(1, config.memberTimeout().toSeconds())));
    // Two clusters that formed apart (a coordinator restarted while its workers ran on)
    // merge within seconds, not Hazelcast's default minutes.
    hz.setProperty("hazelcast.merge.first.run.delay.seconds", "5");
    hz.setProperty("hazelcast.merge.next.run.delay.seconds", "5");
    // The cluster keeps only the event bus's subscriptions in Hazelcast: a few partitions
    // migrate in milliseconds when a member joins or leaves, the default 271 took seconds, and
    // event-bus lookups that meet a migrating partition retried every 500 ms meanwhile (a
    // deploy reached a new worker 1.9 s late).
    hz.setProperty("hazelcast.partition.count", "31");
    hz.setProperty("hazelcast.invocation.retry.pause.millis", "50");
    NetworkConfig net = hz.getNetworkConfig();
    net.setPort(config.port()).setPortAutoIncrement(config.portRange() > 1)
        .setPortCount(config.portRange());
    net.getInterfaces().setEnabled(true).addInterface(config.bindHost());
    net.getJoin().getMulticastConfig().setEnabled(false);
    net.getJoin().getAutoDetectionConfig().setEnabled(false);
    net.getJoin().getTcpIpConfig().setEnabled(true).setConnectionTimeoutSeconds(2)
        .setMembers(config.members().isEmpty()
            ? List.of(config.bindHost() + ":" + config.port()) : config.members());
    return hz;
  }

  public Vertx vertx() {
    return vertx;
  }

  /** This member's id (its Hazelcast member id), which {@link #onMemberLeft} reports. */
  public String nodeId() {
    return manager.getHazelcastInstance().getCluster().getLocalMember().getUuid().toString();
  }

  /** {@code host:port} of every member's membership server, this one's included. */
  public List<String> members() {
    return manager.getHazelcastInstance().getCluster().getMembers().stream()
        .map(m -> m.getAddress().getHost() + ":" + m.getAddress().getPort()).toList();
  }

  /** Calls {@code listener} with the node id of each member that leaves the cluster. */
  public void onMemberLeft(Consumer<String> listener) {
    leftListeners.add(listener);
  }

  /** Calls {@code listener} whenever a member joins or leaves. */
  public void onMembersChanged(Runnable listener) {
    changeListeners.add(listener);
  }

  /** Leaves the cluster (others see this member leave at once) and closes Vert.x. */
  @Override
  public void close() {
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("Leaving the cluster did not finish cleanly: {}", e.toString());
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable c = e;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return String.valueOf(c.getMessage() != null ? c.getMessage() : c);
  }
}
