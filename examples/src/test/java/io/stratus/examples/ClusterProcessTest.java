package io.stratus.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.stratus.s3.EmbeddedS3Server;
import io.stratus.scheduler.CheckpointStorage;
import io.stratus.store.lsm.CheckpointHandle;
import io.stratus.store.objectstore.ObjectInfo;
import io.stratus.store.objectstore.S3Config;
import io.stratus.store.objectstore.S3ObjectStore;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster as separate processes on 127.0.0.1, as a user runs it: a coordinator and worker
 * processes ({@code stratus coordinator}, {@code stratus worker}) over one bucket (an S3 server
 * in this JVM, the one process never killed). A job with exactly-once output survives workers
 * and the coordinator killed with SIGKILL at random moments, scales out onto a worker started
 * while it runs, and commits exactly the output of a run without failures.
 */
class ClusterProcessTest {

  private static final Duration START = Duration.ofSeconds(90);
  /**
   * Many short-lived JVMs share two cores here: the quick compiler only, so that starting one
   * does not take the CPU from the others for seconds.
   */
  private static final List<String> JVM = List.of("-XX:TieredStopAtLevel=1");

  @TempDir
  Path dir;

  private EmbeddedS3Server s3;
  private S3ObjectStore bucket;
  private Map<String, String> env;
  private int clusterPort;
  private int apiPort;
  private StratusProcess coordinator;
  private final List<StratusProcess> workers = new ArrayList<>();
  private final List<StratusProcess> all = new ArrayList<>();
  private int workersStarted;
  private final long startedAt = System.nanoTime();

  /** A line of the test's timeline, in its report. */
  private void log(String what) {
    System.out.printf("%6.1f s  %s%n", (System.nanoTime() - startedAt) / 1e9, what);
  }

  @BeforeEach
  void bucket() throws IOException {
    s3 = EmbeddedS3Server.start(dir.resolve("s3"));
    s3.createBucket("stratus");
    bucket = new S3ObjectStore(S3Config.forBucket("stratus").withEndpoint(s3.endpoint(), true)
        .withCredentials(s3.accessKey(), s3.secretKey()).withPrefix("cluster/"));
    // The AWS default credential chain of every process finds the bucket's keys here.
    env = Map.of("AWS_ACCESS_KEY_ID", s3.accessKey(), "AWS_SECRET_ACCESS_KEY", s3.secretKey(),
        "AWS_REGION", "us-east-1");
    clusterPort = freePort();
    apiPort = freePort();
  }

  @AfterEach
  void stop() throws IOException {
    all.forEach(StratusProcess::close);
    // The processes' logs and output outlive the temporary folder, for a failure's report.
    Path keep = Path.of("target", "cluster-process-test");
    Files.createDirectories(keep);
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.filter(f -> f.toString().endsWith(".log")
          || f.toString().endsWith(".out")).toList()) {
        Files.copy(f, keep.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    if (bucket != null) {
      bucket.close();
    }
    if (s3 != null) {
      s3.close();
    }
  }

  private StratusProcess startCoordinator(String... more) throws IOException {
    coordinator = coordinatorProcess(clusterPort, apiPort, more);
    return coordinator;
  }

  private StratusProcess coordinatorProcess(int cluster, int api, String... more)
      throws IOException {
    List<String> args = new ArrayList<>(List.of("coordinator",
        "--data-dir", dir.resolve("coordinator").toString(),
        "--cluster-port", String.valueOf(cluster), "--api-port", String.valueOf(api),
        "--s3-endpoint", s3.endpoint().toString(), "--bucket", "stratus", "--prefix", "cluster/",
        "--lease-ttl", "6s", "--orphan-grace", "1s"));
    args.addAll(List.of(more));
    StratusProcess p = StratusProcess.start(dir.resolve("coordinator"), env, JVM,
        args.toArray(String[]::new));
    all.add(p);
    return p;
  }

  private StratusProcess startWorker(String... more) throws IOException {
    String id = "w" + (++workersStarted);
    List<String> args = new ArrayList<>(List.of("worker",
        "--coordinator", "127.0.0.1:" + clusterPort, "--id", id,
        "--cluster-port", String.valueOf(clusterPort + 1),
        "--data-dir", dir.resolve("workers").toString(),
        "--cache-mib", "32", "--disk-cache-mib", "64", "--heartbeat", "250"));
    args.addAll(List.of(more));
    StratusProcess worker = StratusProcess.start(dir.resolve("workers"), env, JVM,
        args.toArray(String[]::new));
    workers.add(worker);
    all.add(worker);
    return worker;
  }

  private CoordinatorClient api() {
    return new CoordinatorClient("http://127.0.0.1:" + apiPort, null);
  }

  private void submit(long events, long users, int rate, int parallelism)
      throws CoordinatorClient.ApiException, InterruptedException {
    Map<String, Object> submit = new LinkedHashMap<>();
    submit.put("job", PaymentTotalsJob.NAME);
    submit.put("parameters", Map.of("events", events, "rate", rate, "users", users,
        "checkpoint-ms", 300));
    submit.put("parallelism", parallelism);
    api().post("/jobs", submit, Duration.ofMinutes(2));
    log("submitted");
  }

  private void awaitFinishedWithExactOutput(long events, long users, String context) {
    Awaitility.await("the job to finish (" + context + ")").atMost(Duration.ofMinutes(4))
        .pollInterval(Duration.ofSeconds(1)).until(() -> state().equals("FINISHED"));
    log("finished");
    List<String> expected = PaymentTotalsJob.expectedOutput(events, users);
    List<String> committed = PaymentTotalsJob.committedOutput(bucket);
    assertEquals(expected.size(), committed.size(), context + ": lines committed");
    assertEquals(expected, committed, context);
  }

  @Test
  void aWorkerThatCannotJoinSaysWhyAndExits() throws Exception {
    // Nothing listens at the coordinator's address.
    StratusProcess lonely = startWorker("--join-timeout", "3s");
    assertEquals(1, lonely.awaitExit(START));
    assertTrue(lonely.output().contains("stratus worker: no coordinator answered at 127.0.0.1:"
        + clusterPort + " within 3 s"), lonely.output());

    // A coordinator with a secret; a worker with another one cannot join it.
    startCoordinator("--cluster-secret", "the-secret-of-this-cluster").awaitOutput("Ready.",
        START);
    StratusProcess stranger = startWorker("--join-timeout", "3s", "--cluster-secret",
        "a-secret-of-another-cluster");
    assertEquals(1, stranger.awaitExit(START));
    assertTrue(stranger.output().contains("does this worker have the same cluster secret?"),
        stranger.output());
    // One with the right secret joins; the coordinator was not disturbed.
    startWorker("--cluster-secret", "the-secret-of-this-cluster").awaitOutput("Ready.", START);
    assertTrue(coordinator.alive());
    assertTrue(coordinator.output().contains("Ready."));
  }

  @Test
  void aSecondCoordinatorRefusesOrStandsByAndTakesOverWhenTheLeaderIsKilled()
      throws Exception {
    startCoordinator().awaitOutput("Ready.", START);
    // Without --standby a second coordinator on the same bucket refuses, naming the holder.
    StratusProcess second = coordinatorProcess(freePort(), freePort());
    assertEquals(1, second.awaitExit(START));
    assertTrue(second.output().contains("is in use by pid " + coordinator.pid()),
        second.output());
    assertTrue(coordinator.alive());

    int standbyApi = freePort();
    StratusProcess standby = coordinatorProcess(freePort(), standbyApi, "--standby", "--peer",
        "127.0.0.1:" + clusterPort);
    standby.awaitOutput("answers 503 until this coordinator leads", START);
    // The standby's API says who leads and where its API is.
    HttpResponse<String> refused = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + standbyApi + "/jobs")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(503, refused.statusCode(), refused.body());
    assertTrue(refused.body().contains("REST API http://127.0.0.1:" + apiPort)
        && refused.body().contains("pid " + coordinator.pid()), refused.body());
    startWorker().awaitOutput("Ready.", START);
    long events = 60_000;
    submit(events, 500, 4_000, 2);
    Awaitility.await("a checkpoint").atMost(Duration.ofMinutes(1))
        .pollInterval(Duration.ofMillis(200)).until(() ->
            api().get("/jobs/" + PaymentTotalsJob.NAME).path("completedCheckpoints").asLong() > 0);
    coordinator.kill9();
    log("killed the leader");
    standby.awaitOutput("Ready.", START);
    log("the standby leads");
    assertTrue(standby.output().contains("leading at epoch 2"), standby.output());
    apiPort = standbyApi;
    awaitFinishedWithExactOutput(events, 500, "after the standby took over");
  }

  @Test
  void exactOutputThroughWorkerAndCoordinatorKillsAndAScaleOut() throws Exception {
    long events = 240_000;
    long users = 2_000;
    startCoordinator().awaitOutput("Ready.", START);
    for (int i = 0; i < 3; i++) {
      startWorker();
    }
    for (StratusProcess w : workers) {
      w.awaitOutput("Ready.", START);
    }
    submit(events, users, 4_000, 3);

    long seed = System.nanoTime();
    Random random = new Random(seed);
    int workerKills = 0;
    int coordinatorKills = 0;
    boolean scaledOut = false;
    StratusProcess joining = null;
    String joiningId = null;
    while (workerKills < 10 || coordinatorKills < 2 || !scaledOut) {
      // Denser than the input is long (60 s at 4,000/s): the faults must end before it does.
      Thread.sleep(1_000 + random.nextInt(1_500));
      String state = state();
      assertTrue(List.of("RUNNING", "RESTARTING", "RESCALING", "SUBMITTED").contains(state),
          "seed " + seed + ": the job is " + state + " before the faults ended; coordinator:\n"
              + coordinator.output());
      if (workerKills == 4 && !scaledOut) {
        // Scale out: one more worker process (started a fault earlier: a JVM takes seconds to
        // start on a busy machine) and one API call.
        joining.awaitOutput("Ready.", START);
        workers.add(joining);
        log("worker " + joiningId + " ready; rescaling to 4");
        rescaleTo(4);
        log("rescaled to 4");
        scaledOut = true;
        // A worker asked to stop leaves by a rescale, not by a failure and a restart.
        long restartsBefore = api().get("/jobs/" + PaymentTotalsJob.NAME).path("restarts")
            .asLong();
        StratusProcess leaving = workers.remove(0);
        leaving.terminate();
        assertEquals(0, leaving.awaitExit(START));
        assertTrue(leaving.output().contains("Moved [" + PaymentTotalsJob.NAME + "]"),
            leaving.output());
        assertEquals(restartsBefore, api().get("/jobs/" + PaymentTotalsJob.NAME)
            .path("restarts").asLong(), "restarts while a worker left");
        log("a worker left by SIGTERM; its tasks moved by a rescale");
        startWorker();
      } else if ((workerKills == 3 && coordinatorKills == 0)
          || (workerKills == 8 && coordinatorKills == 1)) {
        coordinator.kill9();
        coordinatorKills++;
        log("killed the coordinator");
        startCoordinator().awaitOutput("Ready.", START);
        log("coordinator ready again");
        if (joining == null) {
          joining = startWorker();
          joiningId = "w" + workersStarted;
          workers.remove(joining); // not a victim of the next kill
        }
      } else {
        StratusProcess victim = workers.remove(random.nextInt(workers.size()));
        victim.kill9();
        workerKills++;
        startWorker();
        log("killed a worker (" + workerKills + "), started w" + workersStarted);
      }
    }
    awaitFinishedWithExactOutput(events, users, "seed " + seed);

    // The files that killed workers left are swept once the job has ended: state files no
    // checkpoint references, and output staged for checkpoints that never completed.
    Awaitility.await("no orphaned files (seed " + seed + ")").atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
          assertEquals(List.of(), orphanedStateFiles());
          assertEquals(List.of(), bucket.list(PaymentTotalsJob.OUTPUT + "/.pending/").join()
              .stream().map(ObjectInfo::key).toList());
        });
  }

  /** State files in the bucket that no checkpoint or savepoint references. */
  private List<String> orphanedStateFiles() {
    Set<String> referenced = new HashSet<>();
    for (CheckpointStorage.RestorePoint p : new CheckpointStorage(bucket).allRestorePoints()
        .join()) {
      for (CheckpointHandle h : p.metadata().checkpointHandles()) {
        referenced.add(h.manifestKey());
        referenced.addAll(h.files());
      }
    }
    assertTrue(!referenced.isEmpty(), "the job's checkpoints reference state files");
    List<String> orphans = new ArrayList<>();
    for (String prefix : List.of("sst/", "versions/")) {
      for (ObjectInfo o : bucket.list(prefix).join()) {
        if (!referenced.contains(o.key())) {
          orphans.add(o.key());
        }
      }
    }
    return orphans;
  }

  /** Rescales through the API, retrying while the job restarts (409) or the API is away. */
  private void rescaleTo(int parallelism) throws InterruptedException {
    Awaitility.await("rescale to " + parallelism).atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500)).until(() -> {
          try {
            api().post("/jobs/" + PaymentTotalsJob.NAME + "/rescale",
                Map.of("parallelism", parallelism), Duration.ofMinutes(1));
            return true;
          } catch (CoordinatorClient.ApiException e) {
            if (e.status() == 409 || e.status() == 0 || e.status() == 503) {
              return false;
            }
            throw e;
          }
        });
  }

  /** The job's state; UNREACHABLE while no coordinator answers. */
  private String state() throws InterruptedException {
    try {
      JsonNode job = api().get("/jobs/" + PaymentTotalsJob.NAME);
      return job.path("state").asText();
    } catch (CoordinatorClient.ApiException e) {
      return e.status() == 404 ? "SUBMITTED" : "UNREACHABLE";
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
