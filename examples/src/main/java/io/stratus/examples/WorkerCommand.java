package io.stratus.examples;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.cache.HybridBlockCache;
import io.stratus.network.DataPlaneConfig;
import io.stratus.runtime.execution.ChannelRegistry;
import io.stratus.runtime.execution.RuntimeResources;
import io.stratus.scheduler.JobCatalog;
import io.stratus.scheduler.Worker;
import io.stratus.scheduler.cluster.ClusterConfig;
import io.stratus.scheduler.cluster.ClusterNode;
import io.stratus.store.lsm.StoreResources;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code stratus worker}: runs tasks for the coordinator it joins. It keeps nothing that cannot
 * be lost (state is in the bucket; its cache is only a cache), so it can be started and killed
 * at will: the coordinator places tasks on it at the next rescale, and restarts the jobs it ran
 * from their last checkpoint on the other workers when it dies.
 */
@Command(name = "worker", mixinStandardHelpOptions = true,
    description = {
        "Runs a worker that joins the coordinator at --coordinator and runs the tasks it is "
            + "given. The bucket is the coordinator's (it says where), unless --s3-endpoint "
            + "says otherwise; credentials for a real S3 come from the AWS default chain.", ""})
final class WorkerCommand implements Callable<Integer> {

  @Spec
  CommandLine.Model.CommandSpec spec;
  @Mixin
  MemberOptions member;
  @Mixin
  StorageOptions storage;

  @Option(names = "--coordinator", paramLabel = "HOST:PORT", required = true, split = ",",
      description = "the coordinator's cluster address (its --cluster-port); several for "
          + "standby coordinators")
  List<String> coordinators;

  @Option(names = "--id", paramLabel = "NAME",
      description = "this worker's name (default: worker-<host>-<pid>)")
  String id;

  @Option(names = "--cluster-port", paramLabel = "N", defaultValue = "5702",
      description = "first membership port to try; the next free one of 100 is taken "
          + "(default: ${DEFAULT-VALUE})")
  int clusterPort;

  @Option(names = "--data-port", paramLabel = "N", defaultValue = "0",
      description = "port of the data server that other workers send records to, 0 for any "
          + "free one (default: ${DEFAULT-VALUE})")
  int dataPort;

  @Option(names = "--cache-dir", paramLabel = "DIR",
      description = "the disk tier of the block cache (default: <data-dir>/worker-<id>/cache)")
  Path cacheDir;

  @Option(names = "--cache-mib", paramLabel = "N", defaultValue = "256",
      description = "memory tier of the block cache, MiB (default: ${DEFAULT-VALUE})")
  long cacheMib;

  @Option(names = "--disk-cache-mib", paramLabel = "N", defaultValue = "1024",
      description = "disk tier of the block cache, MiB, 0 for none (default: ${DEFAULT-VALUE})")
  long diskCacheMib;

  @Option(names = "--join-timeout", paramLabel = "TIME", defaultValue = "60s",
      converter = ClusterOptions.DurationConverter.class,
      description = "give up when no coordinator answered for this long "
          + "(default: ${DEFAULT-VALUE})")
  Duration joinTimeout;

  @Option(names = "--drain-timeout", paramLabel = "TIME", defaultValue = "2m",
      converter = ClusterOptions.DurationConverter.class,
      description = "on SIGTERM, how long to wait for the coordinator to move this worker's "
          + "tasks to the others before stopping anyway (default: ${DEFAULT-VALUE})")
  Duration drainTimeout;

  @Option(names = "--heartbeat", paramLabel = "MS", defaultValue = "500",
      description = "milliseconds between heartbeats (default: ${DEFAULT-VALUE})")
  long heartbeatMillis;

  @Override
  public Integer call() throws InterruptedException {
    if (cacheMib < 1 || diskCacheMib < 0) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--cache-mib must be at "
          + "least 1 and --disk-cache-mib 0 or more");
    }
    if (heartbeatMillis < 50) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--heartbeat must be at "
          + "least 50 ms, was " + heartbeatMillis);
    }
    String name = id != null ? id : "worker-" + hostName() + "-" + ProcessHandle.current().pid();
    ClusterConfig clusterConfig = member.config(spec.commandLine(), clusterPort, 100,
        coordinators);
    DataPlaneConfig dataPlane;
    try {
      // The secret first: a data server off loopback is refused without one.
      dataPlane = clusterConfig.secret() == null ? DataPlaneConfig.defaults()
          : DataPlaneConfig.defaults().withSecret(clusterConfig.secret());
      dataPlane = dataPlane.withBind(member.bind, dataPort);
      if (clusterConfig.tls() != null) {
        dataPlane = dataPlane.withTls(clusterConfig.tls());
      }
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    StopSignal stop = StopSignal.install("Stopping the worker (press Ctrl-C again to quit at "
        + "once; the coordinator then restarts its tasks elsewhere)...");
    Path dataDir = storage.dataDir.toAbsolutePath();
    ClusterLog.writeTo(dataDir.resolve("stratus-" + name + ".log"));
    ClusterNode node;
    try {
      node = ClusterNode.join(clusterConfig).join();
    } catch (CompletionException e) {
      return failed(CoordinatorCommand.rootMessage(e));
    }
    try (node) {
      Map<String, String> offered;
      try {
        offered = Worker.join(node.vertx(), name, node.nodeId(), String.join(",", coordinators),
            joinTimeout).join();
      } catch (CompletionException e) {
        return failed(CoordinatorCommand.rootMessage(e));
      }
      try (DemoStorage bucket = DemoStorage.connect(offered, storage)) {
        return run(name, node, bucket, dataPlane, dataDir, offered, stop);
      } catch (IOException | IllegalArgumentException e) {
        return failed(e.getMessage());
      }
    }
  }

  private int run(String name, ClusterNode node, DemoStorage bucket, DataPlaneConfig dataPlane,
      Path dataDir, Map<String, String> offered, StopSignal stop) throws InterruptedException {
    Path workDir = dataDir.resolve(name);
    BlockCacheConfig cacheConfig = BlockCacheConfig.defaults()
        .withMemoryBytes(cacheMib << 20).withDiskBytes(diskCacheMib << 20);
    if (diskCacheMib > 0) {
      cacheConfig = cacheConfig.withDiskDirectory(cacheDir != null ? cacheDir
          : workDir.resolve("cache"));
    }
    ChannelRegistry channels;
    try {
      channels = new ChannelRegistry(name, dataPlane);
    } catch (RuntimeException e) {
      return failed("the data server cannot listen on " + member.bind + ":" + dataPort + ": "
          + CoordinatorCommand.rootMessage(e));
    }
    try (channels; HybridBlockCache cache = new HybridBlockCache(cacheConfig);
         StoreResources store = StoreResources.create(bucket.objects(), cache)) {
      JobCatalog catalog = JobCatalog.load(bucket.objects(), workDir.resolve("local"));
      try (Worker worker = new Worker(name, node::nodeId,
          new RuntimeResources(node.vertx(), store), catalog, channels,
          Duration.ofMillis(heartbeatMillis)).start()) {
        System.out.printf("Worker %s joined the coordinator at %s (epoch %s)%n  object store: "
                + "%s%n  data server: %s; cache: %d MiB memory%s%n  jobs it can run: %s%n",
            name, String.join(",", coordinators), offered.get("epoch"),
            bucket.objects().location(), channels.dataAddress(), cacheMib,
            diskCacheMib > 0 ? " + " + diskCacheMib + " MiB disk in " + cacheConfig
                .diskDirectory() : "", catalog.names());
        System.out.println("Ready.");
        while (!stop.requested()) {
          Thread.sleep(100);
        }
        // Leave as a rescale, not as a failure: the coordinator moves the tasks first.
        System.out.println("Leaving: the coordinator moves this worker's tasks to the others...");
        try {
          List<String> moved = worker.leave(drainTimeout).join();
          System.out.println(moved.isEmpty() ? "No task ran here." : "Moved " + moved + ".");
        } catch (CompletionException e) {
          System.out.println("Stopping anyway (" + CoordinatorCommand.rootMessage(e) + "): the "
              + "coordinator restarts its tasks elsewhere from the last checkpoint.");
        }
        System.out.println("Stopped.");
        return 0;
      }
    }
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName().replaceAll("[^A-Za-z0-9_.-]", "_");
    } catch (UnknownHostException e) {
      return "localhost";
    }
  }

  private static int failed(String message) {
    System.out.flush();
    System.err.println("stratus worker: " + message);
    return 1;
  }
}
