package io.stratus.rescale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.api.StreamEnvironment;
import io.stratus.runtime.functions.Collector;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.sink.DiscardingSink;
import io.stratus.runtime.source.Payment;
import io.stratus.runtime.source.PaymentGenerator;
import io.stratus.runtime.state.StateDescriptor;
import io.stratus.runtime.state.ValueState;
import io.stratus.scheduler.CheckpointConfig;
import io.stratus.scheduler.EmbeddedCluster;
import io.stratus.scheduler.JobDefinition;
import io.stratus.scheduler.RestartStrategy;
import io.stratus.store.lsm.StoreOptions;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The REST API over HTTP against a running job on an embedded cluster. */
class RestApiTest {

  @TempDir
  Path dir;

  private EmbeddedCluster cluster;
  private RestServer rest;
  private LocalDirectoryObjectStore objects;
  private final HttpClient http = HttpClient.newHttpClient();

  /** Counts payments per user. */
  static final class Count extends KeyedProcessFunction<Long, Payment, Long> {
    private transient ValueState<Long> count;

    @Override
    public void open(OpenContext context) {
      count = context.state(new StateDescriptor.Value<>("count", Serdes.LONG));
    }

    @Override
    public void processElement(Payment p, Context<Long> context, Collector<Long> out) {
      count.value().thenAccept(c -> count.update(c == null ? 1 : c + 1));
    }
  }

  @BeforeEach
  void start() throws Exception {
    objects = new LocalDirectoryObjectStore(dir.resolve("bucket"));
    cluster = new EmbeddedCluster(objects, 2, BlockCacheConfig.memoryOnly(8 << 20),
        Duration.ofMillis(100));
    RuntimeConfig runtime = RuntimeConfig.defaults().withParallelism(2).withMaxParallelism(32)
        .withStoreOptions(StoreOptions.small().withMaxParallelism(32));
    StreamEnvironment env = StreamEnvironment.plan(runtime);
    env.fromSource(new PaymentGenerator(3, 5_000, Long.MAX_VALUE, 1000, 0, 0),
            WatermarkStrategy.noWatermarks(), "payments", 1)
        // A gentle pace: the job must run for the whole test without eating both cores.
        .filter(p -> {
          LockSupport.parkNanos(20_000);
          return true;
        })
        .keyBy(Payment::userId, Serdes.LONG)
        .process(new Count(), "counts")
        .sinkTo(new DiscardingSink<>());
    cluster.catalog().register(new JobDefinition(env.graph("payments"), runtime,
        CheckpointConfig.defaults().withInterval(Duration.ofMillis(300)),
        RestartStrategy.none()));
    cluster.coordinator().submit("payments", null, Map.of());
    rest = RestServer.start(cluster.vertx(), cluster.coordinator(),
        RestConfig.defaults().withPort(0)).toCompletionStage().toCompletableFuture().join();
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!job().getString("state").equals("RUNNING")) {
      assertTrue(System.nanoTime() < deadline, "the job does not run");
      Thread.sleep(10);
    }
  }

  @AfterEach
  void stop() {
    if (rest != null) {
      rest.close();
    }
    cluster.close();
  }

  private HttpResponse<String> call(String method, String path, String body, String token)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + rest.port() + path)).timeout(Duration.ofSeconds(60))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> call(String method, String path, String body) throws Exception {
    return call(method, path, body, null);
  }

  private JsonObject job() throws Exception {
    HttpResponse<String> r = call("GET", "/jobs/payments", null);
    assertEquals(200, r.statusCode(), r.body());
    return new JsonObject(r.body());
  }

  private static void assertError(HttpResponse<String> r, int status, String mentions) {
    assertEquals(status, r.statusCode(), r.body());
    JsonObject e = new JsonObject(r.body());
    assertEquals(status, e.getInteger("status"));
    assertTrue(e.getString("error").contains(mentions), e.getString("error"));
  }

  @Test
  void listsJobsAndDescribesOne() throws Exception {
    HttpResponse<String> list = call("GET", "/jobs", null);
    assertEquals(200, list.statusCode());
    JsonArray jobs = new JsonArray(list.body());
    assertEquals(1, jobs.size());
    assertEquals("payments", jobs.getJsonObject(0).getString("name"));

    JsonObject job = job();
    assertEquals(2, job.getJsonObject("parallelism").getInteger("counts"));
    JsonArray tasks = job.getJsonArray("tasks");
    assertEquals(3, tasks.size());
    assertEquals(0, tasks.getJsonObject(1).getJsonObject("keyGroups").getInteger("start"));
    assertEquals(31, tasks.getJsonObject(2).getJsonObject("keyGroups").getInteger("end"));
    assertError(call("GET", "/jobs/nope", null), 404, "no job 'nope'");

    HttpResponse<String> graph = call("GET", "/jobs/payments/graph", null);
    assertEquals(200, graph.statusCode(), graph.body());
    JsonObject g = new JsonObject(graph.body());
    assertEquals(List.of("payments", "filter", "counts", "sink"), g.getJsonArray("operators")
        .stream().map(o -> ((JsonObject) o).getString("name")).toList());
    assertEquals(2, g.getJsonArray("operators").getJsonObject(2).getInteger("parallelism"));
    JsonObject hash = g.getJsonArray("edges").getJsonObject(1);
    assertEquals("hash", hash.getString("partitioning"));
    assertFalse(hash.getBoolean("chained"));
    assertEquals("record Payment?", hash.getString("serde"));
    assertError(call("GET", "/jobs/nope/graph", null), 404, "no job 'nope'");
    assertError(call("GET", "/nothing", null), 404, "no such resource");
  }

  @Test
  void rescalesThroughTheApiAndReportsThePhases() throws Exception {
    HttpResponse<String> r = call("POST", "/jobs/payments/rescale", "{\"parallelism\": 4}");
    assertEquals(200, r.statusCode(), r.body());
    JsonObject report = new JsonObject(r.body());
    assertEquals(4, report.getJsonObject("to").getInteger("counts"));
    assertEquals(2, report.getJsonObject("from").getInteger("counts"));
    for (String phase : List.of("checkpointMillis", "stopMillis", "deployMillis",
        "firstRecordMillis", "totalMillis")) {
      assertTrue(report.getLong(phase) >= 0, phase + " in " + report);
    }
    JsonObject job = job();
    assertEquals("RUNNING", job.getString("state"));
    assertEquals(4, job.getJsonObject("parallelism").getInteger("counts"));
    assertEquals(5, job.getJsonArray("tasks").size());
    assertEquals(report.getLong("totalMillis"),
        job.getJsonObject("lastRescale").getLong("totalMillis"));

    r = call("POST", "/jobs/payments/rescale", "{\"operators\": {\"counts\": 2}}");
    assertEquals(200, r.statusCode(), r.body());
    assertEquals(2, job().getJsonObject("parallelism").getInteger("counts"));
  }

  @Test
  void badRescaleRequestsGet4xxAndChangeNothing() throws Exception {
    int attempt = job().getInteger("attempt");
    assertError(call("POST", "/jobs/payments/rescale", "{\"parallelism\": "), 400,
        "not valid JSON: unexpected end-of-input");
    assertError(call("POST", "/jobs/payments/rescale", "{parallelism: 3}"), 400,
        "(line 1, column 2)");
    assertError(call("POST", "/jobs/payments/rescale", "[3]"), 400,
        "must be a JSON object like {\"parallelism\": 4}, not an array");
    for (String garbage : List.of("{\"parallelism\": ", "{parallelism: 3}", "{\"a\": tru}")) {
      String message = call("POST", "/jobs/payments/rescale", garbage).body();
      for (String internal : List.of("[Source", "jackson", "Jackson", "code 1", "DecodeException",
          "Failed to decode")) {
        assertFalse(message.contains(internal), internal + " in " + message);
      }
    }
    assertError(call("POST", "/jobs/payments/rescale", null), 400, "JSON body is required");
    assertError(call("POST", "/jobs/payments/rescale", "{\"parallelism\": 0}"), 400,
        "outside 1..32");
    assertError(call("POST", "/jobs/payments/rescale", "{\"parallelism\": 33}"), 400,
        "outside 1..32");
    assertError(call("POST", "/jobs/payments/rescale", "{\"parallelism\": \"4\"}"), 400,
        "\"parallelism\" must be a whole number like 4, not the string \"4\"");
    assertError(call("POST", "/jobs/payments/rescale", "{\"parallelism\": 2.5}"), 400,
        "must be a whole number like 4, not 2.5");
    assertError(call("POST", "/jobs/payments/rescale", "{\"operators\": {\"nope\": 2}}"), 400,
        "no keyed operator or rescalable source 'nope'");
    assertError(call("POST", "/jobs/payments/rescale", "{}"), 400, "give either");
    assertError(call("POST", "/jobs/other/rescale", "{\"parallelism\": 2}"), 404, "no job");
    assertError(call("GET", "/jobs/payments/rescale", null), 405, "not allowed");
    assertEquals(attempt, job().getInteger("attempt"));
    assertEquals(2, job().getJsonObject("parallelism").getInteger("counts"));

    // Two rescales at once: one runs, the other is refused with 409.
    List<CompletableFuture<HttpResponse<String>>> both = new ArrayList<>();
    for (int p : new int[] {3, 5}) {
      both.add(CompletableFuture.supplyAsync(() -> {
        try {
          return call("POST", "/jobs/payments/rescale", "{\"parallelism\": " + p + "}");
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }));
    }
    List<Integer> codes = new ArrayList<>();
    for (CompletableFuture<HttpResponse<String>> f : both) {
      codes.add(f.join().statusCode());
    }
    codes.sort(null);
    assertEquals(List.of(200, 409), codes);
  }

  @Test
  void checkpointsSavepointsStopAndCancel() throws Exception {
    HttpResponse<String> c = call("POST", "/jobs/payments/checkpoints", null);
    assertEquals(200, c.statusCode(), c.body());
    JsonObject checkpoint = new JsonObject(c.body());
    assertEquals("checkpoint", checkpoint.getString("kind"));
    assertTrue(objects.head(checkpoint.getString("metadataKey")).join().isPresent());

    HttpResponse<String> s = call("POST", "/jobs/payments/savepoints", "{\"name\": \"before\"}");
    assertEquals(200, s.statusCode(), s.body());
    assertEquals("jobs/payments/savepoints/before/_metadata",
        new JsonObject(s.body()).getString("metadataKey"));

    HttpResponse<String> stop = call("POST", "/jobs/payments/stop", "{\"savepoint\": \"last\"}");
    assertEquals(200, stop.statusCode(), stop.body());
    assertTrue(objects.head("jobs/payments/savepoints/last/_metadata").join().isPresent());
    assertEquals("CANCELED", job().getString("state"));
    assertError(call("POST", "/jobs/payments/rescale", "{\"parallelism\": 3}"), 409,
        "CANCELED");
    HttpResponse<String> cancel = call("DELETE", "/jobs/payments", null);
    assertEquals(200, cancel.statusCode(), cancel.body());
  }

  @Test
  void submitsAJobFromASavepointAndListsWhatItCanStartFrom() throws Exception {
    HttpResponse<String> stop = call("POST", "/jobs/payments/stop", "{\"savepoint\": \"pause\"}");
    assertEquals(200, stop.statusCode(), stop.body());
    long savepointId = new JsonObject(stop.body()).getLong("checkpointId");

    HttpResponse<String> points = call("GET", "/jobs/payments/checkpoints", null);
    assertEquals(200, points.statusCode(), points.body());
    JsonArray list = new JsonArray(points.body());
    JsonObject last = list.getJsonObject(list.size() - 1);
    assertEquals("savepoint", last.getString("kind"));
    assertEquals("pause", last.getString("name"));
    assertEquals(2, last.getJsonObject("parallelism").getInteger("counts"));
    assertTrue(last.getLong("sourceRecords") > 0, last.encode());

    // Bad requests name the problem and start nothing.
    assertError(call("POST", "/jobs", "{\"job\": \"nope\"}"), 404,
        "no job named 'nope' in this binary; it has [payments]");
    assertError(call("POST", "/jobs", "{\"job\": \"payments\", \"savepoint\": \"gone\"}"),
        404, "has no savepoint or checkpoint 'gone'");
    assertError(call("POST", "/jobs", "{\"job\": \"payments\", \"parallelism\": 99}"), 400,
        "outside 1..32");
    assertError(call("POST", "/jobs", "{\"job\": \"payments\", \"operators\": {\"x\": 2}}"),
        400, "no keyed operator or rescalable source 'x'");
    assertError(call("POST", "/jobs", "{\"savepoint\": \"pause\"}"), 400,
        "\"job\" must be a non-empty string, and is missing");
    assertEquals("CANCELED", job().getString("state"));

    HttpResponse<String> started = call("POST", "/jobs",
        "{\"job\": \"payments\", \"savepoint\": \"pause\", \"parallelism\": 3}");
    assertEquals(200, started.statusCode(), started.body());
    JsonObject status = new JsonObject(started.body());
    assertEquals("RUNNING", status.getString("state"));
    assertEquals(3, status.getJsonObject("parallelism").getInteger("counts"));
    assertError(call("POST", "/jobs", "{\"job\": \"payments\"}"), 409, "running already");

    // Its next checkpoint is numbered after the savepoint it started from.
    HttpResponse<String> next = call("POST", "/jobs/payments/checkpoints", null);
    assertEquals(200, next.statusCode(), next.body());
    assertTrue(new JsonObject(next.body()).getLong("checkpointId") > savepointId, next.body());
  }

  @Test
  void servesPrometheusMetricsAndTheOpenApiDocument() throws Exception {
    Thread.sleep(1_500);
    HttpResponse<String> m = call("GET", "/metrics", null);
    assertEquals(200, m.statusCode());
    assertTrue(m.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
    String text = m.body();
    for (String expected : List.of("# TYPE stratus_workers_live gauge", "stratus_workers_live 2",
        "stratus_job_running{job=\"payments\"} 1", "# TYPE stratus_job_records_in_total counter",
        "stratus_job_parallelism{", "operator=\"counts\"", "stratus_worker_cache_hits_total{")) {
      assertTrue(text.contains(expected), expected + " missing in\n" + text);
    }
    for (String line : text.split("\n")) {
      assertTrue(line.startsWith("#") || line.matches("[a-z_]+(\\{[^}]*\\})? [-+0-9.eEInfNa]+"),
          "not exposition format: " + line);
    }

    HttpResponse<String> doc = call("GET", "/openapi.json", null);
    assertEquals(200, doc.statusCode());
    JsonObject paths = new JsonObject(doc.body()).getJsonObject("paths");
    for (String path : List.of("/jobs", "/jobs/{id}", "/jobs/{id}/rescale",
        "/jobs/{id}/checkpoints", "/jobs/{id}/graph",
        "/jobs/{id}/savepoints", "/jobs/{id}/stop", "/metrics", "/catalog", "/workers",
        "/workers/{id}/drain")) {
      assertTrue(paths.containsKey(path), path);
    }
    assertTrue(paths.getJsonObject("/jobs").containsKey("post"));
    assertTrue(paths.getJsonObject("/jobs/{id}/checkpoints").containsKey("get"));
  }

  @Test
  void aStandbyAnswers503NamingTheLeaderAndItsHealthNeedsNoToken() throws Exception {
    HttpServer standby = RestServer.standby(cluster.vertx(),
        RestConfig.defaults().withPort(0).withBearerToken("s3cr3t-t0ken"),
        () -> "the leader is pid 42 on vm (REST API http://10.0.0.7:8081)")
        .toCompletionStage().toCompletableFuture().join();
    try {
      String base = "http://127.0.0.1:" + standby.actualPort();
      HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(base
          + "/health")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(503, health.statusCode(), health.body());
      assertEquals("standby", new JsonObject(health.body()).getString("role"));
      assertFalse(health.body().contains("10.0.0.7"), "the leader named without the token");
      assertEquals("1", health.headers().firstValue("Retry-After").orElse(null));

      HttpResponse<String> noToken = http.send(HttpRequest.newBuilder(URI.create(base
          + "/jobs")).build(), HttpResponse.BodyHandlers.ofString());
      assertError(noToken, 401, "missing");
      HttpResponse<String> jobs = http.send(HttpRequest.newBuilder(URI.create(base + "/jobs"))
          .header("Authorization", "Bearer s3cr3t-t0ken").build(),
          HttpResponse.BodyHandlers.ofString());
      assertError(jobs, 503, "REST API http://10.0.0.7:8081");
    } finally {
      standby.close().toCompletionStage().toCompletableFuture().join();
    }
    // The leader's health needs no token either.
    HttpResponse<String> leader = call("GET", "/health", null);
    assertEquals(200, leader.statusCode(), leader.body());
    assertEquals("leader", new JsonObject(leader.body()).getString("role"));
  }

  @Test
  void aTokenGuardsEveryRouteAndIsRequiredOffLoopback() throws Exception {
    rest.close();
    rest = RestServer.start(cluster.vertx(), cluster.coordinator(),
        RestConfig.defaults().withPort(0).withBearerToken("s3cr3t-t0ken"))
        .toCompletionStage().toCompletableFuture().join();
    assertEquals(200, call("GET", "/health", null).statusCode());
    assertError(call("GET", "/jobs", null), 401, "missing");
    assertError(call("GET", "/metrics", null, "wrong"), 401, "wrong bearer token");
    HttpResponse<String> wrong = call("POST", "/jobs/payments/rescale", "{\"parallelism\": 3}",
        "nope");
    assertEquals(401, wrong.statusCode());
    assertFalse(wrong.body().contains("s3cr3t"), wrong.body());
    assertEquals(200, call("GET", "/jobs", null, "s3cr3t-t0ken").statusCode());
    assertEquals(2, job0("s3cr3t-t0ken"));

    IllegalArgumentException open = assertThrows(IllegalArgumentException.class,
        () -> new RestConfig("0.0.0.0", 8081, null));
    assertTrue(open.getMessage().contains("not a loopback"), open.getMessage());
    assertFalse(new RestConfig("0.0.0.0", 8081, "x").toString().contains("x]"));
  }

  private int job0(String token) throws Exception {
    HttpResponse<String> r = call("GET", "/jobs/payments", null, token);
    return new JsonObject(r.body()).getJsonObject("parallelism").getInteger("counts");
  }
}
