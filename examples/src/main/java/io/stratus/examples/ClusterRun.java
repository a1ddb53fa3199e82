package io.stratus.examples;

import com.fasterxml.jackson.databind.JsonNode;
import io.stratus.cache.BlockCacheConfig;
import io.stratus.network.DataPlaneConfig;
import io.stratus.rescale.RestConfig;
import io.stratus.rescale.RestServer;
import io.stratus.scheduler.CheckpointMetadata;
import io.stratus.scheduler.CheckpointStorage;
import io.stratus.scheduler.EmbeddedCluster;
import io.stratus.scheduler.JobController;
import io.stratus.scheduler.JobState;
import io.stratus.scheduler.JobStatus;
import io.stratus.scheduler.lease.LeaseConfig;
import io.stratus.scheduler.lease.LeaseHeldException;
import io.stratus.store.lsm.CheckpointHandle;
import io.stratus.store.objectstore.ObjectInfo;
import io.stratus.store.objectstore.ObjectStore;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * Runs the card-profiles job (or, with {@code --kafka}, the kafka-fraud job against an
 * embedded broker) on an embedded cluster (coordinator, workers, REST API) over the command's
 * storage, as {@code stratus demo} does: it refuses to start while another process
 * uses the same prefix, resumes from the newest checkpoint or
 * savepoint an earlier run left (or starts over with {@code --fresh}, saying what it removes),
 * optionally rescales live through the REST API, prints a status line every few seconds, and on
 * Ctrl-C, {@code --duration} or the end of the job stops with a savepoint and says where it is.
 *
 * <p>Exit codes: 0 when it stopped with a savepoint (or the job was canceled through the API),
 * 1 when something failed (the job, the savepoint, the storage, the lease), 130 on a second
 * Ctrl-C.
 */
final class ClusterRun {

  /**
   * What to run.
   *
   * @param command      the command's name, for messages
   * @param users        card holders the generator draws from
   * @param workers      workers in this process
   * @param api          where the REST API listens
   * @param dataPlane    each worker's data server; null: records between workers in memory
   * @param fresh        remove what earlier runs left under the prefix first
   * @param restoreFrom  a checkpoint or savepoint to start from instead of the newest, or null
   * @param phaseSeconds seconds before, between and after the scripted rescales; 0 for none
   * @param duration     stop after this long; null to run until Ctrl-C
   * @param reportEvery  time between status lines
   * @param kafkaRate    payments/s into an embedded Kafka broker for the kafka-fraud job; 0
   *                     runs the card-profiles job
   */
  record Settings(String command, long users, int workers, RestConfig api,
      DataPlaneConfig dataPlane, boolean fresh,
      String restoreFrom, long phaseSeconds, Duration duration, Duration reportEvery,
      long kafkaRate) {

    /** The job this run runs. */
    String job() {
      return kafkaRate > 0 ? KafkaFraudJob.NAME : CardProfilesJob.NAME;
    }
  }

  private static final long[] RESCALES = {4, 2};

  private final Settings settings;
  private final StopSignal stop;
  /** Where the state is, for the last message. */
  private String location;

  ClusterRun(Settings settings, StopSignal stop) {
    this.settings = settings;
    this.stop = stop;
  }

  int run(StorageOptions storageOptions) throws InterruptedException {
    String portProblem = portProblem(settings.api());
    if (portProblem != null) {
      return failed(portProblem);
    }
    try (DemoStorage storage = DemoStorage.open(storageOptions, "stratus-demo/")) {
      System.out.println("Stratus: the " + settings.job() + " job on an embedded cluster");
      location = storage.describe();
      System.out.println("  object store: " + location);
      System.out.println("  log: " + ClusterLog.writeTo(storage.dataDir().resolve("stratus.log")));
      String api = "http://" + settings.api().host() + ":"
          + (settings.api().port() == 0 ? "<any>" : settings.api().port());
      EmbeddedCluster cluster;
      try {
        cluster = new EmbeddedCluster(storage.objects(), settings.workers(),
            BlockCacheConfig.defaults().withDiskDirectory(storage.cacheDirectory()),
            Duration.ofMillis(500), LeaseConfig.defaults(),
            "stratus " + settings.command() + ", REST API " + api, settings.dataPlane());
      } catch (LeaseHeldException e) {
        return failed(e.getMessage());
      }
      try (cluster) {
        return run(storage, cluster);
      }
    } catch (IOException | IllegalStateException e) {
      return failed(e.getMessage());
    } catch (CompletionException e) {
      return failed(rootMessage(e));
    }
  }

  private int run(DemoStorage storage, EmbeddedCluster cluster) throws InterruptedException {
    if (settings.kafkaRate() == 0) {
      return run(storage, cluster, null);
    }
    Path log = storage.dataDir().resolve("kafka");
    try (KafkaDemoFeed feed = KafkaDemoFeed.start(log, settings.users(),
        settings.kafkaRate())) {
      System.out.printf("  Kafka: an embedded broker on %s (log in %s); payments of %s cards "
              + "to topic '%s' at %s/s, every 2,000th twenty times its amount; alerts to topic "
              + "'%s'%n", feed.bootstrapServers(), log, Units.count(settings.users()),
          KafkaFraudJob.PAYMENTS, Units.count(settings.kafkaRate()), KafkaFraudJob.ALERTS);
      int exit = run(storage, cluster, feed);
      System.out.printf("%s payments written to Kafka in this run; %s alerts in topic '%s' "
              + "(read_committed, every run's)%n", Units.count(feed.written()),
          Units.count(feed.committedAlerts()), KafkaFraudJob.ALERTS);
      return exit;
    }
  }

  private int run(DemoStorage storage, EmbeddedCluster cluster, KafkaDemoFeed feed)
      throws InterruptedException {
    ObjectStore objects = storage.objects();
    CheckpointStorage checkpoints = cluster.coordinator().storage();
    if (settings.fresh()) {
      startOver(settings.job(), checkpoints, objects);
    }
    CheckpointMetadata restore = restorePoint(checkpoints, objects);
    RestServer rest;
    try {
      rest = RestServer.start(cluster.vertx(), cluster.coordinator(), settings.api())
          .toCompletionStage().toCompletableFuture().join();
    } catch (CompletionException e) {
      return failed(rootMessage(e) + " (choose another --api-port, or 0 for any free one)");
    }
    try (rest) {
      String api = "http://" + settings.api().host() + ":" + rest.port();
      CoordinatorClient client = new CoordinatorClient(api, settings.api().bearerToken());
      System.out.printf("  %d workers%s, REST API on %s (try: ./stratus job %s --api %s)%n%n",
          settings.workers(), settings.dataPlane() == null ? ""
              : " (records between them over their data servers, loopback TCP)",
          api, settings.job(), api);
      Map<String, Integer> parallelism = new LinkedHashMap<>();
      if (restore != null) {
        restore.operators().forEach(o -> parallelism.put(o.uid(), o.parallelism()));
        if (feed != null) {
          restore.sources().forEach(split -> parallelism.put(split.source(),
              split.parallelism()));
        }
      }
      if (stop.requested()) {
        System.out.println("Stopped before the job started: nothing to save.");
        return 0;
      }
      JobController job;
      try {
        job = cluster.coordinator().submit(settings.job(), feed == null
                ? Map.of("users", String.valueOf(settings.users()))
                : Map.of("bootstrap", feed.bootstrapServers()), restore, settings.restoreFrom(),
            parallelism);
      } catch (IllegalArgumentException e) {
        return failed("cannot start " + settings.job() + ": " + e.getMessage());
      }
      return watch(job, client);
    }
  }

  /** Prints status lines, runs the scripted rescales, and stops when asked or when the job ends. */
  private int watch(JobController job, CoordinatorClient client) throws InterruptedException {
    long start = System.nanoTime();
    StatusLine line = new StatusLine();
    System.out.print(line.header());
    long nextReport = start + settings.reportEvery().toNanos();
    int rescales = 0;
    while (true) {
      long now = System.nanoTime();
      if (job.result().isDone()) {
        return ended(job.result().join());
      }
      if (stop.requested() || settings.duration() != null
          && now - start >= settings.duration().toNanos()) {
        return stopWithSavepoint(job, client);
      }
      if (settings.phaseSeconds() > 0 && rescales < RESCALES.length
          && now - start >= TimeUnit.SECONDS.toNanos(settings.phaseSeconds() * (rescales + 1))) {
        rescale(client, RESCALES[rescales++]);
        System.out.print(line.header());
      }
      if (now >= nextReport) {
        nextReport = now + settings.reportEvery().toNanos();
        try {
          System.out.print(line.format(job.status().get(10, TimeUnit.SECONDS),
              (now - start) / 1e9));
        } catch (java.util.concurrent.ExecutionException
            | java.util.concurrent.TimeoutException e) {
          System.out.println("  (no status: " + rootMessage(e) + ")");
        }
      }
      Thread.sleep(100);
    }
  }

  private void rescale(CoordinatorClient client, long parallelism) throws InterruptedException {
    System.out.printf("%nPOST %s/jobs/%s/rescale {\"parallelism\": %d}%n", client.api(),
        settings.job(), parallelism);
    try {
      JsonNode report = client.post("/jobs/" + settings.job() + "/rescale",
          Map.of("parallelism", parallelism), Duration.ofMinutes(2));
      System.out.printf("  rescaled %s -> %s in %s (checkpoint %s, stop %s, deploy and "
              + "restore %s, to first record %s)%n%n", report.path("from"), report.path("to"),
          Units.millis(report.path("totalMillis").asLong()),
          Units.millis(report.path("checkpointMillis").asLong()),
          Units.millis(report.path("stopMillis").asLong()),
          Units.millis(report.path("deployMillis").asLong()),
          Units.millis(report.path("firstRecordMillis").asLong()));
    } catch (CoordinatorClient.ApiException e) {
      System.out.println("  rescale refused: " + e.getMessage() + "\n");
    }
  }

  /** Stops the job with a savepoint through the REST API; says where it is. */
  private int stopWithSavepoint(JobController job, CoordinatorClient client)
      throws InterruptedException {
    String name = settings.job() + "-" + LocalDateTime.now()
        .format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    System.out.printf("%nPOST %s/jobs/%s/stop {\"savepoint\": \"%s\"}%n", client.api(),
        settings.job(), name);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        JsonNode savepoint = client.post("/jobs/" + settings.job() + "/stop",
            Map.of("savepoint", name), Duration.ofMinutes(2));
        JobStatus end = job.result().join();
        System.out.printf("%nStopped with savepoint %s (#%d) after %s records in this run:%n"
                + "  %s in %s%nRun the same command again to resume from it ('--fresh' starts "
                + "over).%n", name, savepoint.path("checkpointId").asLong(),
            Units.count(end.recordsIn()), savepoint.path("metadataKey").asText(), location);
        return 0;
      } catch (CoordinatorClient.ApiException e) {
        if (e.status() == 0) {
          job.cancel().join();
          return failed("the savepoint did not complete in time (" + e.getMessage() + "); it "
              + "may still have: see './stratus checkpoints " + settings.job() + "' "
              + "next time. Otherwise the next run resumes from the last completed checkpoint");
        }
        // A job that is restarting cannot take a savepoint yet: it may in a moment.
        if (e.status() != 409 || job.result().isDone() || System.nanoTime() > deadline) {
          job.cancel().join();
          return failed("no savepoint was taken: " + e.getMessage() + "; the next run resumes "
              + "from the last completed checkpoint");
        }
        Thread.sleep(1_000);
      }
    }
  }

  private int ended(JobStatus end) {
    if (end.state() == JobState.FAILED) {
      return failed("job " + end.name() + " FAILED after " + end.restarts() + " restart(s): "
          + end.lastFailure());
    }
    System.out.printf("%nJob %s ended %s (through the REST API) after %s records in this run; "
        + "its checkpoints and savepoints stay.%n", end.name(), end.state(),
        Units.count(end.recordsIn()));
    return 0;
  }

  /**
   * What the job starts from: the checkpoint or savepoint {@code --savepoint} names, else the
   * newest one an earlier run left; printed with what it holds.
   */
  private CheckpointMetadata restorePoint(CheckpointStorage checkpoints, ObjectStore objects) {
    CheckpointStorage.RestorePoint point;
    if (settings.restoreFrom() != null) {
      point = checkpoints.resolve(settings.job(), settings.restoreFrom()).join();
    } else {
      List<CheckpointStorage.RestorePoint> all =
          checkpoints.restorePoints(settings.job()).join();
      if (all.isEmpty()) {
        System.out.println("  starting fresh: no checkpoint or savepoint of "
            + settings.job() + " under this prefix");
        return null;
      }
      point = all.get(all.size() - 1);
    }
    CheckpointMetadata m = point.metadata();
    Map<String, Long> sizes = new HashMap<>();
    for (ObjectInfo o : objects.list("").join()) {
      sizes.put(o.key(), o.size());
    }
    long files = 0;
    long bytes = 0;
    int tasks = 0;
    for (CheckpointMetadata.Operator o : m.operators()) {
      for (CheckpointMetadata.TaskState t : o.tasks()) {
        tasks++;
        for (String file : t.state().files()) {
          files++;
          bytes += sizes.getOrDefault(file, 0L);
        }
      }
    }
    System.out.printf("  resuming from %s %s (#%d, taken %s): %s payments processed before, "
            + "state of %d task(s) in %d files (%s)%n", m.kind(), point.name(),
        m.checkpointId(), Units.time(m.timestamp()), Units.count(point.sourceRecords()), tasks,
        files, Units.bytes(bytes));
    return m;
  }

  /**
   * {@code --fresh}: removes what earlier runs of the job left (its checkpoints and savepoints)
   * and the state files that no other job's checkpoint or savepoint uses, saying what; other
   * jobs' data and objects that are not Stratus's stay.
   */
  private static void startOver(String job, CheckpointStorage checkpoints,
      ObjectStore objects) {
    List<ObjectInfo> all = objects.list("").join();
    List<CheckpointStorage.RestorePoint> points = checkpoints.allRestorePoints().join();
    Set<String> readable = new HashSet<>();
    Set<String> usedByOthers = new HashSet<>();
    for (CheckpointStorage.RestorePoint p : points) {
      readable.add(p.key());
      if (!p.metadata().job().equals(job)) {
        for (CheckpointHandle h : p.metadata().checkpointHandles()) {
          usedByOthers.add(h.manifestKey());
          usedByOthers.addAll(h.files());
        }
      }
    }
    String own = "jobs/" + job + "/";
    List<String> keys = new ArrayList<>();
    List<String> savepoints = new ArrayList<>();
    int checkpointCount = 0;
    long bytes = 0;
    for (ObjectInfo o : all) {
      String key = o.key();
      if (key.startsWith("jobs/") && key.endsWith("/_metadata") && !readable.contains(key)) {
        throw new IllegalStateException("--fresh: " + key + " cannot be read, so the state "
            + "files it may use are unknown; nothing was removed (move that object away first)");
      }
      boolean state = (key.startsWith("sst/") || key.startsWith("versions/"))
          && !usedByOthers.contains(key);
      if (key.startsWith(own) || state) {
        keys.add(key);
        bytes += o.size();
        if (key.endsWith("/_metadata")) {
          if (key.contains("/savepoints/")) {
            savepoints.add(key.split("/")[3]);
          } else {
            checkpointCount++;
          }
        }
      }
    }
    if (keys.isEmpty()) {
      System.out.println("  --fresh: nothing to remove under this prefix");
      return;
    }
    System.out.printf("  --fresh: removing %s objects (%s) of %s: %d savepoint(s) %s, %d "
            + "checkpoint(s) and the state files no other job uses%n",
        Units.count(keys.size()), Units.bytes(bytes), job, savepoints.size(),
        savepoints, checkpointCount);
    objects.delete(keys).join();
  }

  /** Why the API cannot listen where it should, before anything starts; null if it can. */
  private static String portProblem(RestConfig api) {
    if (api.port() == 0) {
      return null;
    }
    try (ServerSocket probe = new ServerSocket()) {
      probe.setReuseAddress(true);
      probe.bind(new InetSocketAddress(InetAddress.getByName(api.host()), api.port()));
      return null;
    } catch (IOException e) {
      return "the REST API cannot listen on " + api.host() + ":" + api.port() + " ("
          + e.getMessage() + "): another stratus demo or coordinator may run there (try "
          + "'./stratus jobs --api http://" + api.host() + ":" + api.port() + "'); choose "
          + "another --api-port, or 0 for any free one";
    }
  }

  private int failed(String message) {
    System.out.flush();
    System.err.println("stratus " + settings.command() + ": " + message);
    return 1;
  }

  private static String rootMessage(Throwable e) {
    Throwable c = e;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return String.valueOf(c.getMessage());
  }
}
