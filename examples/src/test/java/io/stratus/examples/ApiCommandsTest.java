package io.stratus.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stratus.cache.BlockCacheConfig;
import io.stratus.rescale.RestConfig;
import io.stratus.rescale.RestServer;
import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.api.StreamEnvironment;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.sink.DiscardingSink;
import io.stratus.runtime.source.Payment;
import io.stratus.runtime.source.PaymentGenerator;
import io.stratus.scheduler.CheckpointConfig;
import io.stratus.scheduler.EmbeddedCluster;
import io.stratus.scheduler.JobDefinition;
import io.stratus.scheduler.JobState;
import io.stratus.scheduler.RestartStrategy;
import io.stratus.store.lsm.StoreOptions;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The commands against a coordinator's REST API: what they print for people and with --json. */
class ApiCommandsTest {

  @TempDir
  Path dir;

  private LocalDirectoryObjectStore objects;
  private EmbeddedCluster cluster;
  private RestServer rest;
  private String api;

  /** What one command printed and returned. */
  private record Run(int status, String out, String err) {}

  private static Run stratus(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int status = StratusCli.commandLine().setOut(new PrintWriter(out))
        .setErr(new PrintWriter(err)).execute(args);
    return new Run(status, out.toString(), err.toString());
  }

  @BeforeEach
  void start() {
    objects = new LocalDirectoryObjectStore(dir.resolve("bucket"));
    cluster = new EmbeddedCluster(objects, 2, BlockCacheConfig.memoryOnly(8 << 20),
        Duration.ofMillis(100));
    RuntimeConfig runtime = RuntimeConfig.defaults().withParallelism(2).withMaxParallelism(32)
        .withStoreOptions(StoreOptions.small().withMaxParallelism(32));
    StreamEnvironment env = StreamEnvironment.plan(runtime);
    env.fromSource(new PaymentGenerator(3, 5_000, Long.MAX_VALUE, 1000, 0, 0),
            WatermarkStrategy.noWatermarks(), "payments", 1)
        // Paced: the job runs for the whole test without eating both cores.
        .filter(p -> {
          LockSupport.parkNanos(50_000);
          return true;
        })
        .keyBy(Payment::userId, Serdes.LONG)
        .process(new CardProfilesJob.UpdateProfile(), "profiles")
        .sinkTo(new DiscardingSink<>());
    cluster.catalog().register(new JobDefinition(env.graph("profiles-job"), runtime,
        CheckpointConfig.defaults().withInterval(Duration.ofMillis(500)),
        RestartStrategy.none()));
    cluster.coordinator().submit("profiles-job", null, Map.of()).started().join();
    rest = RestServer.start(cluster.vertx(), cluster.coordinator(),
        RestConfig.defaults().withPort(0)).toCompletionStage().toCompletableFuture().join();
    api = "http://127.0.0.1:" + rest.port();
  }

  @AfterEach
  void stop() {
    if (rest != null) {
      rest.close();
    }
    cluster.close();
    objects.close();
  }

  @Test
  void jobsAndJobPrintTablesWithUnitsAndJsonOnRequest() throws Exception {
    stratus("checkpoint", "profiles-job", "--api", api);
    Run jobs = stratus("jobs", "--api", api);
    assertEquals(0, jobs.status(), jobs.err());
    String[] lines = jobs.out().split("\n");
    assertTrue(lines[0].matches("JOB +STATE +PARALLELISM +TASKS +RECORDS/S +STATE SIZE +LAST "
        + "CHECKPOINT +RESTARTS"), lines[0]);
    assertTrue(lines[1].matches("profiles-job +RUNNING +profiles=2 +3 +[0-9,]+ +[0-9.]+ "
        + "(B|KiB|MiB) +#\\d+ at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d \\(.+\\) +0"),
        lines[1]);

    Run job = stratus("job", "profiles-job", "--api", api);
    assertEquals(0, job.status(), job.err());
    assertTrue(job.out().startsWith("Job profiles-job: RUNNING"), job.out());
    assertTrue(job.out().contains("TASK"), job.out());
    assertTrue(job.out().matches("(?s).*\\n1/0 +profiles -> sink +worker-\\d +0-15 .*"),
        job.out());
    assertTrue(job.out().matches("(?s).*\\n +\\d+ +checkpoint +\\d{4}-\\d\\d-\\d\\d \\d\\d:.*"),
        job.out());

    Run graph = stratus("graph", "profiles-job", "--api", api);
    assertEquals(0, graph.status(), graph.err());
    assertTrue(graph.out().matches("(?s).*\\n +3 +profiles +keyed-process +2 +1 +profiles\\n.*"),
        graph.out());
    assertTrue(graph.out().matches("(?s).*\\nfilter +profiles +hash +no +record Payment\\?\\n.*"),
        graph.out());

    Run json = stratus("job", "profiles-job", "--api", api, "--json");
    JsonNode parsed = new ObjectMapper().readTree(json.out());
    assertEquals("profiles-job", parsed.path("name").asText());
    assertTrue(parsed.path("stateBytes").isIntegralNumber());
  }

  @Test
  void stopThenSubmitFromTheSavepointListedByCheckpoints() throws Exception {
    Run stop = stratus("stop", "profiles-job", "--savepoint", "pause", "--api", api);
    assertEquals(0, stop.status(), stop.err());
    assertTrue(stop.out().startsWith("Stopped profiles-job with savepoint #"), stop.out());
    assertEquals(JobState.CANCELED,
        cluster.coordinator().job("profiles-job").result().join().state());

    Run list = stratus("checkpoints", "profiles-job", "--api", api);
    assertEquals(0, list.status(), list.err());
    assertTrue(list.out().matches("(?s).*\\nsavepoint +pause +\\d+ +\\d{4}-.*profiles=2\\n.*"),
        list.out());

    Run missing = stratus("submit", "profiles-job", "--savepoint", "nope", "--api", api);
    assertEquals(1, missing.status());
    assertTrue(missing.err().contains("has no savepoint or checkpoint 'nope'"), missing.err());

    Run submit = stratus("submit", "profiles-job", "--savepoint", "pause", "--parallelism", "3",
        "--api", api);
    assertEquals(0, submit.status(), submit.err());
    assertTrue(submit.out().startsWith("Started profiles-job (attempt "), submit.out());
    assertTrue(submit.out().contains("from pause at parallelism profiles=3"), submit.out());

    Run again = stratus("submit", "profiles-job", "--api", api);
    assertEquals(1, again.status());
    assertEquals("stratus: job 'profiles-job' is running already; stop or cancel it first "
        + "(HTTP 409)", again.err().strip());
  }

  @Test
  void callsWithoutACoordinatorSaySo() throws Exception {
    int free;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      free = s.getLocalPort();
    }
    Run none = stratus("jobs", "--api", "http://127.0.0.1:" + free);
    assertEquals(1, none.status());
    assertEquals("stratus: no coordinator at http://127.0.0.1:" + free + " (start one with "
        + "'stratus demo' or 'stratus coordinator', or pass --api)", none.err().strip());

    // Something that accepts connections and closes them without a word.
    try (ServerSocket mute = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
      Thread closer = new Thread(() -> {
        while (!mute.isClosed()) {
          try (Socket s = mute.accept()) {
            s.getInputStream().read();
          } catch (Exception e) {
            return;
          }
        }
      });
      closer.start();
      Run closed = stratus("jobs", "--api", "http://127.0.0.1:" + mute.getLocalPort());
      assertEquals(1, closed.status());
      assertTrue(closed.err().contains("the connection closed without an answer"), closed.err());
      assertFalse(closed.err().contains("header parser"), closed.err());
    }

    Run bad = stratus("rescale", "profiles-job", "three", "--api", api);
    assertEquals(2, bad.status());
    assertTrue(bad.err().startsWith("stratus: Invalid value for positional parameter at index 1 "
        + "(N): 'three' is not an int"), bad.err());
    for (String unknown : List.of("nope", "--nope")) {
      Run r = stratus(unknown);
      assertEquals(2, r.status(), r.err());
      assertFalse(r.err().contains("\u001b["), "ANSI codes in " + r.err());
    }
    java.nio.file.Files.writeString(dir.resolve("cert.pem"), "not checked before the others");
    Run halfTls = stratus("worker", "--coordinator", "127.0.0.1:1", "--data-dir",
        dir.resolve("w").toString(), "--tls-cert", dir.resolve("cert.pem").toString());
    assertEquals(2, halfTls.status(), halfTls.err());
    assertTrue(halfTls.err().contains("TLS needs --tls-cert, --tls-key and --tls-trust together; "
        + "missing: --tls-key, --tls-trust"), halfTls.err());
  }
}
