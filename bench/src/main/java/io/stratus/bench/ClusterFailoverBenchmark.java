package io.stratus.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stratus.runtime.RuntimeConfig;
import io.stratus.s3.EmbeddedS3Server;
import io.stratus.scheduler.CheckpointMetadata;
import io.stratus.scheduler.CheckpointStorage;
import io.stratus.store.objectstore.S3Config;
import io.stratus.store.objectstore.S3ObjectStore;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The cluster as separate processes under failures, at growing keyed state: a coordinator and
 * three workers ({@code stratus coordinator}, {@code stratus worker}, child JVMs on 127.0.0.1)
 * over an S3Proxy in this JVM (the protocol model: loopback HTTP, a filesystem behind it).
 * For each state size the state is built directly into a savepoint ({@link StatePreloader})
 * and {@link BenchCountsJob} starts from it. Measured:
 *
 * <ul>
 *   <li>kill -9 of a worker that runs a keyed task → the first record processed by the next
 *       attempt (the coordinator's {@code lastRecovery}: the kill is this JVM's clock, the first
 *       record the coordinator's, one machine), with when the failure was detected and when the
 *       new attempt ran; a replacement worker joins before the next kill;
 *   <li>scale-out: a worker process started → registered with the coordinator → a rescale
 *       onto it completed (first record at the new parallelism);
 *   <li>coordinator failover: kill -9 of the coordinator → a new coordinator process leads and
 *       the job it resumed processed its first record.
 * </ul>
 *
 * <p>Run: {@code bench/run cluster-failover [--quick true] [--sizes-gib 0.1,4] [--kills 5]
 * [--rate 5000] [--child-jvm-options "-XX:StartFlightRecording=..."]}; the last goes to every
 * coordinator and worker JVM (to profile one, say).
 */
public final class ClusterFailoverBenchmark {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final List<String> JVM_ACCESS = List.of("--add-modules", "java.se",
      "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
      "--add-opens", "java.base/java.lang=ALL-UNNAMED",
      "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-opens", "java.management/sun.management=ALL-UNNAMED",
      "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED");

  private ClusterFailoverBenchmark() {}

  /** A coordinator or worker process, its output in a file. */
  private static final class Member {
    final String name;
    final Process process;
    final Path output;
    final long startedAt = System.currentTimeMillis();

    Member(String name, Process process, Path output) {
      this.name = name;
      this.process = process;
      this.output = output;
    }

    void awaitOutput(String text, Duration atMost) throws IOException, InterruptedException {
      long deadline = System.nanoTime() + atMost.toNanos();
      while (!Files.readString(output).contains(text)) {
        if (!process.isAlive() || System.nanoTime() > deadline) {
          throw new IllegalStateException(name + " did not print '" + text + "':\n"
              + Files.readString(output));
        }
        Thread.sleep(50);
      }
    }

    void kill() throws InterruptedException {
      process.destroyForcibly();
      process.waitFor();
    }
  }

  private static final class Cluster implements AutoCloseable {
    final Path dir;
    final EmbeddedS3Server s3;
    final int clusterPort;
    final int apiPort;
    final long cacheMiB;
    final List<String> jvmOptions;
    final Map<String, Member> workers = new LinkedHashMap<>();
    Member coordinator;
    int started;

    Cluster(Path dir, EmbeddedS3Server s3, long cacheMiB, List<String> jvmOptions)
        throws IOException {
      this.dir = dir;
      this.s3 = s3;
      this.cacheMiB = cacheMiB;
      this.jvmOptions = jvmOptions;
      this.clusterPort = freePort();
      this.apiPort = freePort();
    }

    /**
     * Starts a process with {@code heap}; a worker needs room for its cache, memtables, the
     * pinned index and filter blocks of its files and a canceled attempt's state closing
     * beside the next one (1 GiB ran out of heap at 4 GiB of state).
     */
    Member start(String name, String heap, List<String> args) throws IOException {
      List<String> command = new ArrayList<>(List.of(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx" + heap,
          "-XX:+ExitOnOutOfMemoryError"));
      command.addAll(jvmOptions);
      command.addAll(JVM_ACCESS);
      command.addAll(List.of("-cp", classpath(), "io.stratus.examples.StratusCli"));
      command.addAll(args);
      Path output = dir.resolve(name + ".out");
      ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile())
          .redirectErrorStream(true).redirectOutput(output.toFile());
      builder.environment().put("AWS_ACCESS_KEY_ID", s3.accessKey());
      builder.environment().put("AWS_SECRET_ACCESS_KEY", s3.secretKey());
      builder.environment().put("AWS_REGION", "us-east-1");
      return new Member(name, builder.start(), output);
    }

    Member startCoordinator() throws IOException {
      coordinator = start("coordinator-" + (++started), "1g", List.of("coordinator",
          "--data-dir", dir.resolve("coordinator").toString(),
          "--cluster-port", String.valueOf(clusterPort), "--api-port", String.valueOf(apiPort),
          "--s3-endpoint", s3.endpoint().toString(), "--bucket", "stratus", "--prefix",
          "bench/"));
      return coordinator;
    }

    Member startWorker() throws IOException {
      String id = "w" + (++started);
      Member w = start(id, "3g", List.of("worker", "--coordinator", "127.0.0.1:" + clusterPort,
          "--id", id, "--cluster-port", String.valueOf(clusterPort + 1),
          "--data-dir", dir.resolve("workers").toString(),
          "--cache-mib", String.valueOf(cacheMiB), "--disk-cache-mib", "0"));
      workers.put(id, w);
      return w;
    }

    JsonNode get(String path) throws IOException, InterruptedException {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(api(path)).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new IOException("GET " + path + ": " + r.statusCode() + " " + r.body());
      }
      return JSON.readTree(r.body());
    }

    JsonNode post(String path, Object body) throws IOException, InterruptedException {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(api(path))
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)))
              .timeout(Duration.ofMinutes(10)).build(),
          HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new IOException("POST " + path + ": " + r.statusCode() + " " + r.body());
      }
      return JSON.readTree(r.body());
    }

    private URI api(String path) {
      return URI.create("http://127.0.0.1:" + apiPort + path);
    }

    JsonNode job() throws IOException, InterruptedException {
      return get("/jobs/" + BenchCountsJob.NAME);
    }

    /** Polls the job's status (the API may be away for a while) until {@code done} holds. */
    JsonNode awaitJob(Predicate<JsonNode> done, Duration atMost) throws Exception {
      long deadline = System.nanoTime() + atMost.toNanos();
      while (true) {
        try {
          JsonNode job = job();
          if (done.test(job)) {
            return job;
          }
        } catch (IOException e) {
          // no coordinator yet
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the job did not get there within " + atMost
              + ":\n" + Files.readString(coordinator.output));
        }
        Thread.sleep(20);
      }
    }

    @Override
    public void close() throws InterruptedException {
      for (Member w : workers.values()) {
        w.kill();
      }
      if (coordinator != null) {
        coordinator.kill();
      }
    }
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> a = BenchArgs.parse(args);
    boolean quick = Boolean.parseBoolean(a.getOrDefault("--quick", "false"));
    List<Double> sizes = new ArrayList<>();
    for (String s : a.getOrDefault("--sizes-gib", quick ? "0.05" : "0.1,4").split(",")) {
      sizes.add(Double.parseDouble(s));
    }
    int kills = Integer.parseInt(a.getOrDefault("--kills", quick ? "2" : "5"));
    int coordinatorKills = Integer.parseInt(a.getOrDefault("--coordinator-kills",
        quick ? "1" : "3"));
    long rate = Long.parseLong(a.getOrDefault("--rate", "5000"));
    long cacheMiB = Long.parseLong(a.getOrDefault("--cache-mib", "256"));
    Path work = Path.of(a.getOrDefault("--work-dir", System.getProperty("java.io.tmpdir")));
    String childOptions = a.getOrDefault("--child-jvm-options", "").trim();
    List<String> jvmOptions = childOptions.isEmpty() ? List.of()
        : List.of(childOptions.split("\\s+"));
    BenchReport report = new BenchReport("cluster-failover", quick)
        .config("sizesGiB", sizes).config("workerKills", kills)
        .config("coordinatorKills", coordinatorKills).config("eventsPerSecond", rate)
        .config("workers", 3).config("keyedParallelism", 2)
        .config("cachePerWorkerMiB", cacheMiB).config("workerHeap", "3g").config("heartbeatTimeout", "10s")
        .config("objectStore", "S3Proxy on loopback (filesystem), in the benchmark's JVM");
    for (double gib : sizes) {
      report.row(runSize(gib, kills, coordinatorKills, rate, cacheMiB, work, jvmOptions));
    }
    report.note("Worker kill: SIGKILL of a worker that runs a keyed task, to the first record "
        + "the next attempt processed (restored from the last checkpoint by pointers; the "
        + "other workers' data connections to it drop at once, the coordinator's cluster "
        + "member list drops it within about half a second). detect = kill to the coordinator "
        + "knowing of the failure; canceled = the failed attempt stopped (the dead worker "
        + "known lost); deploying = the next attempt recorded and sent to the workers; "
        + "running = kill to the next attempt deployed and started. "
        + "Scale-out: process start to registered (its first heartbeat), then a rescale 2 -> 3 "
        + "onto it. Coordinator failover: SIGKILL of the coordinator to the first record of "
        + "the job resumed by a new coordinator process started at once on the same machine "
        + "(its JVM start, cluster join, lease takeover, workers re-attaching included).");
    System.out.println("Wrote " + report.write());
    System.exit(0);
  }

  private static Map<String, Object> runSize(double gib, int kills, int coordinatorKills,
      long rate, long cacheMiB, Path work, List<String> jvmOptions) throws Exception {
    Path dir = Files.createTempDirectory(work, "stratus-bench-cluster");
    long users = StatePreloader.keysFor(gib);
    try (EmbeddedS3Server s3 = EmbeddedS3Server.start(dir.resolve("s3"))) {
      s3.createBucket("stratus");
      String savepoint;
      try (S3ObjectStore objects = new S3ObjectStore(S3Config.forBucket("stratus")
          .withEndpoint(s3.endpoint(), true).withCredentials(s3.accessKey(), s3.secretKey())
          .withPrefix("bench/"))) {
        long t0 = System.nanoTime();
        RuntimeConfig runtime = BenchCountsJob.runtime();
        CheckpointMetadata start = StatePreloader.preload(objects, runtime,
            JobCheckpointBenchmark.OPERATOR, JobCheckpointBenchmark.STATE, users, "payments", 0);
        savepoint = new CheckpointStorage(objects).write(start, "preload").join();
        System.out.printf("state %.2f GiB: %,d users loaded in %.1f s%n", gib, users,
            (System.nanoTime() - t0) / 1e9);
      }
      try (Cluster cluster = new Cluster(dir, s3, cacheMiB, jvmOptions)) {
        cluster.startCoordinator().awaitOutput("Ready.", Duration.ofMinutes(2));
        for (int i = 0; i < 3; i++) {
          cluster.startWorker();
        }
        for (Member w : cluster.workers.values()) {
          w.awaitOutput("Ready.", Duration.ofMinutes(2));
        }
        Map<String, Object> submit = new LinkedHashMap<>();
        submit.put("job", BenchCountsJob.NAME);
        submit.put("parameters", Map.of("users", users, "rate", rate));
        submit.put("savepoint", savepoint);
        submit.put("parallelism", 2);
        cluster.post("/jobs", submit);
        cluster.awaitJob(j -> j.path("completedCheckpoints").asLong() >= 2,
            Duration.ofMinutes(5));

        List<Double> recoveries = new ArrayList<>();
        List<Double> detections = new ArrayList<>();
        List<Double> canceled = new ArrayList<>();
        List<Double> deploying = new ArrayList<>();
        List<Double> running = new ArrayList<>();
        for (int k = 0; k < kills; k++) {
          JsonNode before = cluster.job();
          String victim = keyedWorker(before);
          int attempt = before.path("attempt").asInt();
          Member member = cluster.workers.remove(victim);
          member.kill();
          long killedAt = System.currentTimeMillis();
          JsonNode after = cluster.awaitJob(j -> j.path("lastRecovery").path("attempt").asInt()
              > attempt, Duration.ofMinutes(5));
          JsonNode r = after.path("lastRecovery");
          recoveries.add((double) (r.path("firstRecordAt").asLong() - killedAt));
          detections.add((double) (r.path("detectedAt").asLong() - killedAt));
          canceled.add((double) (r.path("canceledAt").asLong() - killedAt));
          deploying.add((double) (r.path("deployingAt").asLong() - killedAt));
          running.add((double) (r.path("runningAt").asLong() - killedAt));
          System.out.printf("  kill -9 of %s: detected %d ms, canceled %d ms, deploying %d ms, "
                  + "running %d ms, first record %d ms%n", victim,
              r.path("detectedAt").asLong() - killedAt, r.path("canceledAt").asLong() - killedAt,
              r.path("deployingAt").asLong() - killedAt, r.path("runningAt").asLong() - killedAt,
              r.path("firstRecordAt").asLong() - killedAt);
          cluster.startWorker().awaitOutput("Ready.", Duration.ofMinutes(2));
          long checkpoints = after.path("completedCheckpoints").asLong();
          cluster.awaitJob(j -> j.path("completedCheckpoints").asLong() > checkpoints,
              Duration.ofMinutes(5));
        }

        // Scale-out: a new worker process, then one API call.
        Member added = cluster.startWorker();
        String id = added.name;
        long registered = awaitWorker(cluster, id);
        // A rescale is refused (409) while its halting checkpoint cannot complete, e.g. while
        // the keyed tasks are backpressured on a cold cache: then it is tried again, counted.
        JsonNode rescale = null;
        int refusals = 0;
        while (rescale == null) {
          try {
            rescale = cluster.post("/jobs/" + BenchCountsJob.NAME + "/rescale",
                Map.of("parallelism", 3));
          } catch (IOException e) {
            if (!e.getMessage().contains(": 409 ") || ++refusals > 3) {
              throw e;
            }
            System.out.println("  rescale refused, trying again: " + e.getMessage());
            long checkpoints = cluster.job().path("completedCheckpoints").asLong();
            cluster.awaitJob(j -> j.path("completedCheckpoints").asLong() > checkpoints,
                Duration.ofMinutes(5));
          }
        }
        long rescaled = System.currentTimeMillis();
        System.out.printf("  scale-out: registered %d ms after start, rescale %d ms%n",
            registered - added.startedAt, rescale.path("totalMillis").asLong());

        List<Double> failovers = new ArrayList<>();
        for (int k = 0; k < coordinatorKills; k++) {
          JsonNode before = cluster.job();
          long checkpoints = before.path("completedCheckpoints").asLong();
          cluster.coordinator.kill();
          long killedAt = System.currentTimeMillis();
          cluster.startCoordinator();
          JsonNode after = cluster.awaitJob(j -> j.path("lastRecovery").path("cause").asText()
              .startsWith("resumed by"), Duration.ofMinutes(5));
          long first = after.path("lastRecovery").path("firstRecordAt").asLong();
          failovers.add((double) (first - killedAt));
          System.out.printf("  kill -9 of the coordinator: first record under the new one "
              + "after %d ms%n", first - killedAt);
          cluster.awaitJob(j -> j.path("completedCheckpoints").asLong() > 0
              && j.path("state").asText().equals("RUNNING"), Duration.ofMinutes(5));
        }

        double[] r = BenchReport.minMedianMax(recoveries);
        double[] d = BenchReport.minMedianMax(detections);
        double[] n = BenchReport.minMedianMax(running);
        double[] f = BenchReport.minMedianMax(failovers);
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("stateGiB", StatePreloader.gibOf(users));
        row.put("users", users);
        row.put("workerKillToFirstRecordMsMin", r[0]);
        row.put("workerKillToFirstRecordMsMedian", r[1]);
        row.put("workerKillToFirstRecordMsMax", r[2]);
        row.put("workerKillDetectedMsMedian", d[1]);
        row.put("workerKillCanceledMsMedian", BenchReport.minMedianMax(canceled)[1]);
        row.put("workerKillDeployingMsMedian", BenchReport.minMedianMax(deploying)[1]);
        row.put("workerKillRunningMsMedian", n[1]);
        row.put("scaleOutRegisteredMs", registered - added.startedAt);
        row.put("scaleOutRescaleMs", rescale.path("totalMillis").asLong());
        row.put("scaleOutTotalMs", rescaled - added.startedAt);
        row.put("scaleOutRescalesRefused", refusals);
        row.put("coordinatorKillToFirstRecordMsMin", f[0]);
        row.put("coordinatorKillToFirstRecordMsMedian", f[1]);
        row.put("coordinatorKillToFirstRecordMsMax", f[2]);
        return row;
      }
    } finally {
      // The processes' output and logs stay (git-ignored), for a look at what was slow.
      Path logs = Path.of("bench", "results", "raw", "cluster-failover-logs", gib + "GiB");
      Files.createDirectories(logs);
      try (var files = Files.walk(dir)) {
        for (Path f : files.filter(f -> f.toString().endsWith(".log")
            || f.toString().endsWith(".out")).toList()) {
          Files.copy(f, logs.resolve(f.getFileName()),
              java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
      }
      Directories.deleteRecursively(dir);
    }
  }

  /** A worker that runs a keyed task of the job now. */
  private static String keyedWorker(JsonNode job) {
    for (JsonNode t : job.path("tasks")) {
      if (!t.path("keyGroups").isNull() && !t.path("keyGroups").isMissingNode()) {
        return t.path("worker").asText();
      }
    }
    throw new IllegalStateException("no keyed task in " + job);
  }

  /** Waits until the coordinator lists worker {@code id}; returns when (epoch ms). */
  private static long awaitWorker(Cluster cluster, String id) throws Exception {
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (System.nanoTime() < deadline) {
      for (JsonNode w : cluster.get("/workers")) {
        if (w.path("id").asText().equals(id)) {
          return System.currentTimeMillis();
        }
      }
      Thread.sleep(20);
    }
    throw new IllegalStateException("worker " + id + " never registered");
  }

  /**
   * This JVM's class path for the child processes, the stratus command's jar first: its
   * logging configuration (a log file per process) wins over the benchmark's.
   */
  private static String classpath() {
    List<String> absolute = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      String path = Path.of(entry).toAbsolutePath().toString();
      if (path.contains("stratus-examples")) {
        absolute.add(0, path);
      } else {
        absolute.add(path);
      }
    }
    return String.join(File.pathSeparator, absolute);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
