package io.stratus.rescale;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import io.stratus.scheduler.JobFactory;
import io.stratus.scheduler.RestartStrategy;
import io.stratus.store.lsm.StoreOptions;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Jobs of the catalog built from parameters, and the workers, through the REST API. */
class CatalogApiTest {

  @TempDir
  Path dir;

  private EmbeddedCluster cluster;
  private RestServer rest;
  private LocalDirectoryObjectStore objects;
  private CountingFactory counter;
  private CountingFactory other;
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

  /** A job of {@code events} payments (a whole number, at least 1), counted per user. */
  static final class CountingFactory implements JobFactory {
    private final String name;
    final AtomicInteger creates = new AtomicInteger();

    CountingFactory(String name) {
      this.name = name;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public String description() {
      return "counts " + name + " payments per user";
    }

    @Override
    public Map<String, String> parameters() {
      return Map.of("events", "payments in the stream, at least 1 (default 500)",
          "users", "distinct users (default 50)");
    }

    @Override
    public JobDefinition create(Context context) {
      long events = context.getLong("events", 500, 1);
      long users = context.getLong("users", 50, 1);
      creates.incrementAndGet();
      RuntimeConfig runtime = RuntimeConfig.defaults().withParallelism(2).withMaxParallelism(32)
          .withStoreOptions(StoreOptions.small().withMaxParallelism(32));
      StreamEnvironment env = StreamEnvironment.plan(runtime);
      env.fromSource(new PaymentGenerator(3, users, events, 1000, 0, 0),
              WatermarkStrategy.noWatermarks(), "payments", 1)
          .keyBy(Payment::userId, Serdes.LONG)
          .process(new Count(), "counts")
          .sinkTo(new DiscardingSink<>());
      return new JobDefinition(env.graph(name), runtime,
          CheckpointConfig.defaults().withInterval(Duration.ofMillis(300)),
          RestartStrategy.none());
    }
  }

  @BeforeEach
  void start() {
    objects = new LocalDirectoryObjectStore(dir.resolve("bucket"));
    cluster = new EmbeddedCluster(objects, 2, BlockCacheConfig.memoryOnly(8 << 20),
        Duration.ofMillis(100));
    counter = new CountingFactory("counter");
    other = new CountingFactory("other");
    cluster.catalog().register(counter);
    cluster.catalog().register(other);
    rest = RestServer.start(cluster.vertx(), cluster.coordinator(),
        RestConfig.defaults().withPort(0)).toCompletionStage().toCompletableFuture().join();
  }

  @AfterEach
  void stop() {
    if (rest != null) {
      rest.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  private HttpResponse<String> call(String method, String path, String body) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + rest.port() + path)).timeout(Duration.ofSeconds(30))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body))
        .build();
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  private static void assertError(HttpResponse<String> r, int status, String mentions) {
    assertEquals(status, r.statusCode(), r.body());
    JsonObject e = new JsonObject(r.body());
    assertEquals(status, e.getInteger("status"));
    assertTrue(e.getString("error").contains(mentions), e.getString("error"));
  }

  private List<String> runningJobNames() throws Exception {
    HttpResponse<String> r = call("GET", "/jobs", null);
    assertEquals(200, r.statusCode(), r.body());
    return new JsonArray(r.body()).stream().map(j -> ((JsonObject) j).getString("name"))
        .toList();
  }

  @Test
  void listsTheCatalogWithDescriptionsAndParameters() throws Exception {
    HttpResponse<String> r = call("GET", "/catalog", null);
    assertEquals(200, r.statusCode(), r.body());
    JsonArray catalog = new JsonArray(r.body());
    assertEquals(2, catalog.size(), r.body());
    JsonObject first = catalog.getJsonObject(0);
    assertEquals("counter", first.getString("name"));
    assertEquals("counts counter payments per user", first.getString("description"));
    assertEquals(new JsonObject()
            .put("events", "payments in the stream, at least 1 (default 500)")
            .put("users", "distinct users (default 50)"),
        first.getJsonObject("parameters"));
    assertEquals(List.of("events", "users"),
        List.copyOf(first.getJsonObject("parameters").fieldNames()));
    assertEquals("other", catalog.getJsonObject(1).getString("name"));
  }

  @Test
  void startsAJobBuiltFromItsParameters() throws Exception {
    HttpResponse<String> started = call("POST", "/jobs",
        "{\"job\": \"counter\", \"parameters\": {\"events\": 1000, \"users\": \"7\"}}");
    assertEquals(200, started.statusCode(), started.body());
    JsonObject status = new JsonObject(started.body());
    assertEquals("counter", status.getString("name"));
    assertEquals(2, status.getJsonObject("parallelism").getInteger("counts"));
    assertEquals(1, counter.creates.get(), "the coordinator builds the job once");

    byte[] record = objects.get("jobs/counter/_job.json").join();
    JsonObject json = new JsonObject(new String(record, StandardCharsets.UTF_8));
    assertEquals("counter", json.getString("job"));
    assertEquals(new JsonObject().put("events", "1000").put("users", "7"),
        json.getJsonObject("parameters"));
    assertEquals(1, json.getInteger("attempt"), json.encode());
    assertEquals(1, json.getInteger("format"), json.encode());
    assertEquals(List.of("counter"), runningJobNames());

    // The job reads exactly the 1000 payments it was built with, then finishes.
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> {
      HttpResponse<String> r = call("GET", "/jobs/counter", null);
      return "FINISHED".equals(new JsonObject(r.body()).getString("state"));
    });
    assertEquals(1000, new JsonObject(call("GET", "/jobs/counter", null).body())
        .getLong("recordsIn"));
  }

  @Test
  void badParametersAreRefusedByNameAndStartNothing() throws Exception {
    assertError(call("POST", "/jobs", "{\"job\": \"other\", \"parameters\": {\"nope\": 1}}"),
        400, "job 'other' has no parameter 'nope'; its parameters: [events, users]");
    assertError(call("POST", "/jobs", "{\"job\": \"other\", \"parameters\": {\"events\": "
        + "\"x\"}}"), 400, "parameter 'events' must be a whole number, was 'x'");
    assertError(call("POST", "/jobs", "{\"job\": \"other\", \"parameters\": {\"events\": 0}}"),
        400, "parameter 'events' must be at least 1, was 0");
    assertError(call("POST", "/jobs", "{\"job\": \"other\", \"parameters\": {\"events\": "
        + "2.5}}"), 400, "parameter 'events' must be a whole number, was '2.5'");
    assertError(call("POST", "/jobs", "{\"job\": \"other\", \"parameters\": [1]}"), 400,
        "\"parameters\" must be an object of name: value");
    assertError(call("POST", "/jobs", "{\"job\": \"other\", \"parameters\": {\"events\": "
        + "[1]}}"), 400, "parameter 'events' must be a string, number or boolean");
    assertError(call("POST", "/jobs", "{\"job\": \"nothing\", \"parameters\": {\"events\": "
        + "1}}"), 404, "no job named 'nothing' in this binary; it has [counter, other]");
    assertError(call("POST", "/jobs", "{\"job\": \"other\", \"savepoint\": \"gone\"}"), 404,
        "job 'other' has no savepoint or checkpoint 'gone'");

    assertEquals(List.of(), runningJobNames());
    assertFalse(objects.head("jobs/other/_job.json").join().isPresent());
    assertFalse(objects.head("jobs/nothing/_job.json").join().isPresent());
    assertEquals(0, counter.creates.get());
    assertError(call("GET", "/jobs/other", null), 404, "other");
  }

  @Test
  void listsTheWorkersAndRefusesToDrainAnUnknownOne() throws Exception {
    HttpResponse<String> r = call("GET", "/workers", null);
    assertEquals(200, r.statusCode(), r.body());
    JsonArray workers = new JsonArray(r.body());
    assertEquals(List.of("worker-1", "worker-2"), workers.stream()
        .map(w -> ((JsonObject) w).getString("id")).toList());
    for (Object w : workers) {
      JsonObject worker = (JsonObject) w;
      assertEquals(0, worker.getInteger("tasks"), worker.encode());
      assertFalse(worker.getBoolean("draining"), worker.encode());
      assertTrue(worker.getLong("lastHeartbeat") > 0, worker.encode());
    }

    assertError(call("POST", "/workers/nobody/drain", null), 404,
        "no live worker 'nobody'; live workers: [worker-1, worker-2]");
    assertError(call("GET", "/workers/nobody/drain", null), 405, "not allowed");
  }
}
