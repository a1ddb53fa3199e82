package io.stratus.examples;

import io.stratus.rescale.RestConfig;
import io.stratus.rescale.RestServer;
import io.stratus.scheduler.Coordinator;
import io.stratus.scheduler.JobCatalog;
import io.stratus.scheduler.cluster.ClusterConfig;
import io.stratus.scheduler.cluster.ClusterNode;
import io.stratus.scheduler.cluster.KnownMembers;
import io.stratus.scheduler.lease.CoordinatorLease;
import io.stratus.scheduler.lease.LeaseConfig;
import io.stratus.scheduler.lease.LeaseHeldException;
import io.stratus.scheduler.lease.LeaseHolder;
import io.vertx.core.http.HttpServer;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code stratus coordinator}: the cluster's coordinator in its own process. It joins (or
 * starts) the cluster, takes the lease on the bucket prefix (a {@code --standby} waits for it),
 * resumes the jobs its predecessor ran, serves the REST API and places jobs on the worker
 * processes that join. It runs no job by itself: {@code stratus submit} starts one.
 *
 * <p>On Ctrl-C or SIGTERM it stops its jobs' tasks and leaves their records running, so the
 * next coordinator resumes them from their last checkpoint. Exit codes: 0 after a stop, 1 when
 * something failed (storage, lease, ports, a lost lease), 2 for usage errors.
 */
@Command(name = "coordinator", mixinStandardHelpOptions = true,
    description = {
        "Runs the cluster's coordinator: REST API, job placement, checkpoints, failover. "
            + "Workers join with 'stratus worker --coordinator HOST:PORT'; jobs start with "
            + "'stratus submit JOB'. Resumes the jobs a previous coordinator on the same "
            + "bucket prefix ran. Without --s3-endpoint it serves an embedded S3Proxy from "
            + "<data-dir>/s3 and tells the workers where it is.", ""})
final class CoordinatorCommand implements Callable<Integer> {

  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(CoordinatorCommand.class);

  @Spec
  CommandLine.Model.CommandSpec spec;
  @Mixin
  MemberOptions member;
  @Mixin
  StorageOptions storage;

  @Option(names = "--cluster-port", paramLabel = "N",
      defaultValue = "" + ClusterConfig.DEFAULT_PORT,
      description = "membership port, what workers name in --coordinator "
          + "(default: ${DEFAULT-VALUE})")
  int clusterPort;

  @Option(names = "--peer", paramLabel = "HOST:PORT", split = ",",
      description = "other members to join: the leading coordinator, for a standby")
  List<String> peers = List.of();

  @Option(names = "--standby",
      description = "if another coordinator holds the lease on the prefix, wait in the cluster "
          + "and take over when it is gone (default: refuse to start)")
  boolean standby;

  @Mixin
  ApiServerOptions apiOptions;

  @Option(names = "--lease-ttl", paramLabel = "TIME", defaultValue = "15s",
      converter = ClusterOptions.DurationConverter.class,
      description = "how long the lease outlives its holder's last renewal: how long a standby "
          + "on another machine waits after the leader died (default: ${DEFAULT-VALUE})")
  Duration leaseTtl;

  @Option(names = "--heartbeat-timeout", paramLabel = "TIME", defaultValue = "10s",
      converter = ClusterOptions.DurationConverter.class,
      description = "a worker without a heartbeat for this long is lost: one that hangs or is "
          + "cut off (a killed one is lost at once, when it leaves the cluster; a shorter "
          + "timeout only adds false alarms on a busy machine) (default: ${DEFAULT-VALUE})")
  Duration heartbeatTimeout;

  @Option(names = "--orphan-grace", paramLabel = "TIME", defaultValue = "60s",
      converter = ClusterOptions.DurationConverter.class,
      description = "state files that killed workers left behind and no checkpoint uses are "
          + "deleted when no job runs, once they are this old (default: ${DEFAULT-VALUE})")
  Duration orphanGrace;

  @Override
  public Integer call() throws InterruptedException {
    ClusterConfig clusterConfig = member.config(spec.commandLine(), clusterPort, 1, peers);
    String self = clusterConfig.bindHost() + ":" + clusterPort;
    RestConfig api = apiOptions.config(spec.commandLine());
    LeaseConfig leaseConfig;
    try {
      leaseConfig = new LeaseConfig(leaseTtl, leaseTtl.dividedBy(5));
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    StopSignal stop = StopSignal.install("Stopping the coordinator (its jobs resume when a "
        + "coordinator starts again)...");
    try (DemoStorage bucket = DemoStorage.open(storage, "stratus/", 9333, true)) {
      System.out.println("Stratus coordinator");
      System.out.println("  object store: " + bucket.describe());
      System.out.println("  log: " + ClusterLog.writeTo(bucket.dataDir()
          .resolve("stratus-coordinator.log")));
      // The workers of a coordinator that died keep their cluster: join it through the members
      // the last leader wrote down, rather than start one of our own beside it.
      List<String> join = new ArrayList<>(peers);
      for (String m : KnownMembers.read(bucket.objects().forControlPlane()).join()) {
        if (!m.equals(self) && !join.contains(m)) {
          join.add(m);
        }
      }
      ClusterNode node;
      try {
        node = ClusterNode.join(clusterConfig.withMembers(join)).join();
      } catch (CompletionException e) {
        return failed(rootMessage(e));
      }
      try (node) {
        System.out.printf("  cluster: %s:%d (workers: stratus worker --coordinator %s:%d)%n",
            clusterConfig.bindHost(), clusterPort, clusterConfig.bindHost(), clusterPort);
        CoordinatorLease lease = acquire(bucket, node, leaseConfig, api, stop);
        if (lease == null) {
          return stop.requested() ? 0 : 1;
        }
        try (lease) {
          return lead(bucket, node, lease, api, stop);
        }
      }
    } catch (IOException | IllegalStateException e) {
      return failed(e.getMessage());
    }
  }

  /**
   * Takes the lease; a standby waits for it, its REST API answering 503 with who leads. Null if
   * it did not (after saying why).
   */
  private CoordinatorLease acquire(DemoStorage bucket, ClusterNode node, LeaseConfig config,
      RestConfig api, StopSignal stop) throws InterruptedException {
    LeaseHolder me = LeaseHolder.thisProcess("stratus coordinator, cluster " + member.bind + ":"
        + clusterPort + ", REST API http://" + api.host() + ":" + api.port());
    AtomicReference<String> leader = new AtomicReference<>();
    HttpServer standbyApi = null;
    try {
      while (!stop.requested()) {
        try {
          return CoordinatorLease.acquire(bucket.objects().forControlPlane(), config, me)
              .join();
        } catch (CompletionException e) {
          if (!(e.getCause() instanceof LeaseHeldException held)) {
            failed(rootMessage(e));
            return null;
          }
          if (!standby) {
            failed(held.getMessage() + " (start this one with --standby to take over when it "
                + "is gone)");
            return null;
          }
          if (leader.getAndSet(held.getMessage()) == null) {
            System.out.println("  standby: " + held.getMessage());
            standbyApi = serveStandbyApi(node, api, leader::get);
          }
          Thread.sleep(config.renewInterval().toMillis());
        }
      }
      return null;
    } finally {
      if (standbyApi != null) {
        // The leader's API takes the port next.
        standbyApi.close().toCompletionStage().toCompletableFuture().join();
      }
    }
  }

  /** The standby's REST API, or null (after saying why) if it cannot listen. */
  private static HttpServer serveStandbyApi(ClusterNode node, RestConfig api,
      Supplier<String> leader) {
    try {
      HttpServer server = RestServer.standby(node.vertx(), api, leader)
          .toCompletionStage().toCompletableFuture().join();
      System.out.println("  REST API on http://" + api.host() + ":" + server.actualPort()
          + " answers 503 until this coordinator leads");
      return server;
    } catch (CompletionException e) {
      System.out.println("  " + rootMessage(e) + "; it listens once this coordinator leads");
      return null;
    }
  }

  private int lead(DemoStorage bucket, ClusterNode node, CoordinatorLease lease, RestConfig api,
      StopSignal stop) throws InterruptedException {
    JobCatalog catalog = JobCatalog.load(bucket.objects(), bucket.dataDir().resolve("local"));
    Coordinator coordinator = new Coordinator(node.vertx(), bucket.objects(), lease, catalog,
        heartbeatTimeout);
    coordinator.workerSettings(bucket.forWorkers());
    coordinator.orphanGrace(orphanGrace);
    node.onMemberLeft(coordinator::nodeLeft);
    Runnable writeMembers = () -> {
      if (!lease.lost().isDone()) {
        KnownMembers.write(bucket.objects().forControlPlane(), node.members())
            .whenComplete((v, e) -> {
              if (e != null) {
                LOG.warn("Cannot write {} (a restarted coordinator may not find the workers "
                    + "at once): {}", KnownMembers.KEY, rootMessage(e));
              }
            });
      }
    };
    node.onMembersChanged(writeMembers);
    writeMembers.run();
    coordinator.start();
    try (coordinator) {
      RestServer rest;
      try {
        rest = RestServer.start(node.vertx(), coordinator, api).toCompletionStage()
            .toCompletableFuture().join();
      } catch (CompletionException e) {
        return failed(rootMessage(e) + " (choose another --api-port, or 0 for any free one)");
      }
      try (rest) {
        System.out.printf("  leading at epoch %d; REST API on http://%s:%d; jobs it can run: "
            + "%s%n", lease.epoch(), api.host(), rest.port(), catalog.names());
        List<String> resumed;
        try {
          resumed = coordinator.recoverJobs().join();
        } catch (CompletionException e) {
          return failed("cannot read the jobs to resume from the bucket: " + rootMessage(e));
        }
        System.out.println(resumed.isEmpty() ? "  no job to resume"
            : "  resuming " + resumed);
        System.out.println("Ready.");
        while (!stop.requested()) {
          if (lease.lost().isDone()) {
            return failed("lost the lease, so another coordinator may lead now: "
                + lease.lost().join());
          }
          Thread.sleep(100);
        }
        System.out.println("Stopped; the jobs' records stay, and the next coordinator resumes "
            + "them.");
        return 0;
      }
    }
  }

  private static int failed(String message) {
    System.out.flush();
    System.err.println("stratus coordinator: " + message);
    return 1;
  }

  static String rootMessage(Throwable e) {
    Throwable c = e;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return String.valueOf(c.getMessage() != null ? c.getMessage() : c);
  }
}
