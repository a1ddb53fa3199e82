package io.stratus.rescale;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stratus.runtime.execution.JobTopology;
import io.stratus.scheduler.CheckpointMetadata;
import io.stratus.scheduler.CheckpointStorage;
import io.stratus.scheduler.Coordinator;
import io.stratus.scheduler.JobController;
import io.stratus.scheduler.JobDefinition;
import io.stratus.scheduler.JobFactory;
import io.stratus.scheduler.JobStatus;
import io.stratus.scheduler.RescaleConflictException;
import io.stratus.scheduler.UnknownJobException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's REST API (JSON over HTTP, Vert.x Web): jobs, rescale, checkpoints,
 * savepoints, stop, cancel, Prometheus metrics and the OpenAPI document of all of it
 * ({@code GET /openapi.json}). Handlers never block the event loop: they compose the job
 * controllers' futures. A bad request gets a 4xx with {@code {"error": "..."}} and changes
 * nothing.
 */
public final class RestServer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(RestServer.class);
  private static final ObjectMapper JSON = new ObjectMapper()
      .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
  private static final String OPENAPI = "/io/stratus/rescale/openapi.json";
  /** Answered without the token: readiness probes and load balancers have none. */
  private static final String HEALTH = "/health";

  private final Coordinator coordinator;
  private final RestConfig config;
  private final byte[] openApi;
  private HttpServer server;

  private RestServer(Coordinator coordinator, RestConfig config) {
    this.coordinator = coordinator;
    this.config = config;
    try (InputStream in = RestServer.class.getResourceAsStream(OPENAPI)) {
      if (in == null) {
        throw new IllegalStateException("the OpenAPI document " + OPENAPI + " is missing");
      }
      this.openApi = in.readAllBytes();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + OPENAPI, e);
    }
  }

  /**
   * Starts the API.
   *
   * @return the running server, once it listens; fails naming the address if it cannot bind
   */
  public static Future<RestServer> start(Vertx vertx, Coordinator coordinator, RestConfig config) {
    RestServer rest = new RestServer(coordinator, config);
    Router router = rest.router(vertx);
    return vertx.createHttpServer().requestHandler(router)
        .listen(config.port(), config.host())
        .recover(e -> Future.failedFuture(new IllegalStateException("the REST API cannot listen "
            + "on " + config.host() + ":" + config.port() + ": " + e.getMessage(), e)))
        .map(s -> {
          rest.server = s;
          LOG.info("REST API on http://{}:{}/ ({})", config.host(), s.actualPort(),
              config.bearerToken() == null ? "no token" : "bearer token required");
          return rest;
        });
  }

  /** The port it listens on. */
  public int port() {
    return server.actualPort();
  }

  @Override
  public void close() {
    if (server != null) {
      server.close().toCompletionStage().toCompletableFuture().join();
    }
  }

  /**
   * The API of a standby coordinator until it leads: every request (with the bearer token, if
   * one is set) is answered 503 with {@code Retry-After} and {@code leader}'s current answer (who
   * leads, and where its API is), so a client pointed at the standby learns where to go. Close
   * it before the leader's API takes the port.
   *
   * @return the listening server; fails naming the address if it cannot bind
   */
  public static Future<HttpServer> standby(Vertx vertx, RestConfig config,
      Supplier<String> leader) {
    Router router = Router.router(vertx);
    router.get(HEALTH).handler(ctx -> {
      ctx.response().putHeader("Retry-After", "1");
      json(ctx, 503, new JsonObject().put("role", "standby").put("status", 503)
          .put("error", "this coordinator is a standby"));
    });
    authenticate(router, config);
    router.route().handler(ctx -> {
      ctx.response().putHeader("Retry-After", "1");
      error(ctx, 503, "this coordinator is a standby: " + leader.get());
    });
    return vertx.createHttpServer().requestHandler(router)
        .listen(config.port(), config.host())
        .recover(e -> Future.failedFuture(new IllegalStateException("the standby's REST API "
            + "cannot listen on " + config.host() + ":" + config.port() + ": " + e.getMessage(),
            e)));
  }

  /** With a token configured, a request without it is answered 401 and goes no further. */
  private static void authenticate(Router router, RestConfig config) {
    if (config.bearerToken() == null) {
      return;
    }
    byte[] expected = ("Bearer " + config.bearerToken()).getBytes(StandardCharsets.UTF_8);
    router.route().handler(ctx -> {
      String header = ctx.request().getHeader("Authorization");
      if (header != null && MessageDigest.isEqual(expected,
          header.getBytes(StandardCharsets.UTF_8))) {
        ctx.next();
      } else {
        error(ctx, 401, header == null ? "missing Authorization: Bearer token"
            : "wrong bearer token");
      }
    });
  }

  private Router router(Vertx vertx) {
    Router router = Router.router(vertx);
    router.get(HEALTH).handler(ctx -> json(ctx, 200, new JsonObject().put("role", "leader")));
    authenticate(router, config);
    router.route().handler(BodyHandler.create().setBodyLimit(64 * 1024));
    router.get("/catalog").handler(this::catalog);
    router.get("/workers").handler(ctx -> reply(ctx,
        CompletableFuture.completedFuture(coordinator.workers())));
    router.post("/workers/:id/drain").handler(this::drain);
    router.get("/jobs").handler(this::listJobs);
    router.post("/jobs").handler(this::submit);
    router.get("/jobs/:id").handler(this::getJob);
    router.get("/jobs/:id/checkpoints").handler(this::restorePoints);
    router.get("/jobs/:id/graph").handler(this::graph);
    router.post("/jobs/:id/rescale").handler(this::rescale);
    router.post("/jobs/:id/checkpoints").handler(this::checkpoint);
    router.post("/jobs/:id/savepoints").handler(this::savepoint);
    router.post("/jobs/:id/stop").handler(this::stop);
    router.delete("/jobs/:id").handler(this::cancel);
    router.get("/metrics").handler(ctx -> ctx.response()
        .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        .end(coordinator.metrics().render()));
    router.get("/openapi.json").handler(ctx -> ctx.response()
        .putHeader("Content-Type", "application/json").end(Buffer.buffer(openApi)));
    router.errorHandler(404, ctx -> error(ctx, 404, "no such resource: "
        + ctx.request().method() + " " + ctx.request().path()));
    router.errorHandler(405, ctx -> error(ctx, 405, "method " + ctx.request().method()
        + " is not allowed on " + ctx.request().path()));
    router.errorHandler(413, ctx -> error(ctx, 413, "request body over 64 KiB"));
    router.errorHandler(500, ctx -> {
      LOG.warn("REST handler failed on {} {}", ctx.request().method(), ctx.request().path(),
          ctx.failure());
      error(ctx, 500, "internal error: " + rootMessage(ctx.failure()));
    });
    return router;
  }

  // ------------------------------------------------------------------------------- handlers

  private void listJobs(RoutingContext ctx) {
    List<CompletableFuture<JobStatus>> all = new ArrayList<>();
    for (JobController job : coordinator.jobs()) {
      all.add(job.status());
    }
    reply(ctx, CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(v -> {
      List<Map<String, Object>> out = new ArrayList<>();
      for (CompletableFuture<JobStatus> f : all) {
        JobStatus s = f.join();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", s.name());
        m.put("state", s.state());
        m.put("attempt", s.attempt());
        m.put("parallelism", s.parallelism());
        m.put("recordsPerSecond", s.recordsPerSecond());
        m.put("stateBytes", s.stateBytes());
        out.add(m);
      }
      out.sort((a, b) -> ((String) a.get("name")).compareTo((String) b.get("name")));
      return out;
    }));
  }

  /** The jobs this binary can run: name, description and parameters with their meaning. */
  private void catalog(RoutingContext ctx) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (String name : coordinator.catalog().names()) {
      JobFactory factory = coordinator.catalog().factory(name);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", name);
      m.put("description", factory == null ? "" : factory.description());
      m.put("parameters", factory == null ? Map.of() : new java.util.TreeMap<>(
          factory.parameters()));
      out.add(m);
    }
    reply(ctx, CompletableFuture.completedFuture(out));
  }

  /**
   * Starts a job of this binary, fresh or from a checkpoint or savepoint: {@code {"job": name,
   * "parameters": {name: value}, "savepoint": reference, "parallelism": n}} or
   * {@code "operators": {uid: n}}. Everything is checked before anything starts: an unknown
   * job or savepoint is a 404, a parameter the job rejects a 400.
   */
  private void submit(RoutingContext ctx) {
    JsonObject body = body(ctx, true);
    if (body == null) {
      return;
    }
    String name;
    JobDefinition definition;
    Map<String, Integer> parallelism;
    String savepoint;
    Map<String, String> parameters;
    try {
      name = string(body, "job", true);
      savepoint = string(body, "savepoint", false);
      parameters = parameters(body);
      definition = coordinator.catalog().get(name, parameters);
      parallelism = parallelismOf(body, definition.rescalableOperators(), false);
      definition.checkParallelism(parallelism);
    } catch (UnknownJobException e) {
      error(ctx, 404, e.getMessage());
      return;
    } catch (IllegalArgumentException e) {
      error(ctx, 400, e.getMessage());
      return;
    }
    JobController running = coordinator.job(name);
    if (running != null && !running.result().isDone()) {
      error(ctx, 409, "job '" + name + "' is running already; stop or cancel it first");
      return;
    }
    CompletableFuture<CheckpointMetadata> restore = savepoint == null
        ? CompletableFuture.completedFuture(null)
        : coordinator.storage().resolve(name, savepoint).handle((r, e) -> {
          if (e != null) {
            throw new CompletionException(new NotFound(unwrap(e).getMessage()));
          }
          return r.metadata();
        });
    reply(ctx, restore.thenCompose(metadata -> {
      // Resumed as it was: the restore point's parallelism, unless the request gives one.
      Map<String, Integer> resumed = new LinkedHashMap<>();
      if (metadata != null && parallelism.isEmpty()) {
        metadata.operators().forEach(o -> {
          if (definition.rescalableOperators().contains(o.uid())) {
            resumed.put(o.uid(), o.parallelism());
          }
        });
        metadata.sources().forEach(s -> {
          if (s.source() != null && definition.rescalableOperators().contains(s.source())) {
            resumed.put(s.source(), s.parallelism());
          }
        });
      }
      resumed.putAll(parallelism);
      JobController job = coordinator.submit(name, parameters, metadata, savepoint, resumed);
      return job.started().thenCompose(v -> job.status());
    }));
  }

  /** The job's retained checkpoints and its savepoints, oldest first. */
  private void restorePoints(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    if (coordinator.job(id) == null && !coordinator.catalog().names().contains(id)) {
      error(ctx, 404, "no job '" + id + "'; jobs: " + coordinator.catalog().names());
      return;
    }
    reply(ctx, coordinator.storage().restorePoints(id).thenApply(all -> {
      List<Map<String, Object>> out = new ArrayList<>();
      for (CheckpointStorage.RestorePoint r : all) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", r.metadata().kind());
        m.put("name", r.name());
        m.put("checkpointId", r.metadata().checkpointId());
        m.put("completedAt", r.metadata().timestamp());
        m.put("sourceRecords", r.sourceRecords());
        Map<String, Integer> parallelism = new LinkedHashMap<>();
        r.metadata().operators().forEach(o -> parallelism.put(o.uid(), o.parallelism()));
        m.put("parallelism", parallelism);
        m.put("metadataKey", r.key());
        out.add(m);
      }
      return out;
    }));
  }

  /** The job's graph as it runs (or would run, for a job of this binary not started yet). */
  private void graph(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    JobController job = coordinator.job(id);
    if (job != null) {
      reply(ctx, job.graph());
      return;
    }
    if (!coordinator.catalog().names().contains(id)) {
      error(ctx, 404, "no job '" + id + "'; jobs: " + coordinator.catalog().names());
      return;
    }
    JobDefinition definition = coordinator.catalog().get(id);
    reply(ctx, CompletableFuture.completedFuture(new JobTopology(definition.graph(),
        definition.runtime(), Map.of()).describe()));
  }

  private void getJob(RoutingContext ctx) {
    JobController job = job(ctx);
    if (job != null) {
      reply(ctx, job.status());
    }
  }

  /**
   * Drains a worker: its tasks move to the others by a rescale of each job on it; answers once
   * none is left on it, with the jobs moved.
   */
  private void drain(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    if (!coordinator.liveWorkers().contains(id)) {
      error(ctx, 404, "no live worker '" + id + "'; live workers: "
          + coordinator.liveWorkers());
      return;
    }
    reply(ctx, coordinator.drain(id).thenApply(moved -> {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("worker", id);
      out.put("jobsMoved", moved);
      return out;
    }));
  }

  private void rescale(RoutingContext ctx) {
    JobController job = job(ctx);
    JsonObject body = body(ctx, true);
    if (job == null || body == null) {
      return;
    }
    Map<String, Integer> target;
    try {
      target = parallelismOf(body, job.definition().rescalableOperators(), true);
    } catch (IllegalArgumentException e) {
      error(ctx, 400, e.getMessage());
      return;
    }
    reply(ctx, job.rescale(target));
  }

  private void checkpoint(RoutingContext ctx) {
    JobController job = job(ctx);
    if (job != null) {
      reply(ctx, job.triggerCheckpoint().thenApply(m -> described(m,
          CheckpointStorage.checkpointKey(m.job(), m.checkpointId()))));
    }
  }

  private void savepoint(RoutingContext ctx) {
    JobController job = job(ctx);
    JsonObject body = body(ctx, false);
    if (job == null || body == null) {
      return;
    }
    String name = body.getValue("name") instanceof String s && !s.isBlank() ? s
        : "savepoint-" + Instant.now().toEpochMilli();
    reply(ctx, job.triggerSavepoint(name).thenApply(m -> described(m,
        CheckpointStorage.savepointKey(m.job(), name))));
  }

  private void stop(RoutingContext ctx) {
    JobController job = job(ctx);
    JsonObject body = body(ctx, false);
    if (job == null || body == null) {
      return;
    }
    String name = body.getValue("savepoint") instanceof String s && !s.isBlank() ? s
        : "stop-" + Instant.now().toEpochMilli();
    reply(ctx, job.stopWithSavepoint(name).thenApply(m -> described(m,
        CheckpointStorage.savepointKey(m.job(), name))));
  }

  private void cancel(RoutingContext ctx) {
    JobController job = job(ctx);
    if (job != null) {
      reply(ctx, job.cancel());
    }
  }

  // -------------------------------------------------------------------------------- helpers

  private JobController job(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    JobController job = coordinator.job(id);
    if (job == null) {
      List<String> names = coordinator.jobs().stream().map(JobController::name).sorted()
          .toList();
      error(ctx, 404, "no job '" + id + "'; jobs: " + names);
    }
    return job;
  }

  /**
   * The target parallelism a body names: {@code "parallelism": n} for every keyed operator, or
   * {@code "operators": {uid: n}} for some.
   *
   * @param required whether one of the two must be there (else an empty map when neither is)
   */
  private static Map<String, Integer> parallelismOf(JsonObject body, List<String> rescalable,
      boolean required) {
    Object all = body.getValue("parallelism");
    Object perOperator = body.getValue("operators");
    if (all != null && perOperator != null || required && all == null && perOperator == null) {
      throw new IllegalArgumentException("give either \"parallelism\": N (every keyed "
          + "operator and rescalable source) or \"operators\": {\"<uid>\": N}");
    }
    Map<String, Integer> target = new LinkedHashMap<>();
    if (all != null) {
      int p = integer("parallelism", all);
      rescalable.forEach(op -> target.put(op, p));
    } else if (perOperator != null) {
      if (!(perOperator instanceof JsonObject ops) || ops.isEmpty()) {
        throw new IllegalArgumentException("\"operators\" must be a non-empty object of "
            + "operator uid to parallelism, like {\""
            + (rescalable.isEmpty() ? "uid" : rescalable.get(0)) + "\": 4}");
      }
      for (String op : ops.fieldNames()) {
        target.put(op, integer("operators." + op, ops.getValue(op)));
      }
    }
    return target;
  }

  /** The request's {@code "parameters"}: an object of string (or number, or boolean) values. */
  private static Map<String, String> parameters(JsonObject body) {
    Object value = body.getValue("parameters");
    if (value == null) {
      return Map.of();
    }
    if (!(value instanceof JsonObject o)) {
      throw new IllegalArgumentException("\"parameters\" must be an object of name: value");
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : o) {
      if (!(e.getValue() instanceof String || e.getValue() instanceof Number
          || e.getValue() instanceof Boolean)) {
        throw new IllegalArgumentException("parameter '" + e.getKey() + "' must be a string, "
            + "number or boolean");
      }
      out.put(e.getKey(), String.valueOf(e.getValue()));
    }
    return out;
  }

  private static String string(JsonObject body, String field, boolean required) {
    Object value = body.getValue(field);
    if (value == null && !required) {
      return null;
    }
    if (!(value instanceof String s) || s.isBlank()) {
      throw new IllegalArgumentException("\"" + field + "\" must be a non-empty string"
          + (value == null ? ", and is missing" : ", not " + describe(value)));
    }
    return s;
  }

  /** The JSON body; an empty body is {@code {}} unless required. Null after an error reply. */
  private static JsonObject body(RoutingContext ctx, boolean required) {
    String text = ctx.body() == null ? null : ctx.body().asString();
    if (text == null || text.isBlank()) {
      if (required) {
        error(ctx, 400, "a JSON body is required");
        return null;
      }
      return new JsonObject();
    }
    JsonNode node;
    try {
      node = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      error(ctx, 400, "the body is not valid JSON: " + describe(e));
      return null;
    }
    if (!(node instanceof ObjectNode)) {
      error(ctx, 400, "the body must be a JSON object like {\"parallelism\": 4}, not "
          + (node.isArray() ? "an array" : "a " + node.getNodeType().name().toLowerCase()));
      return null;
    }
    return new JsonObject(JSON.convertValue(node, Map.class));
  }

  /** What was wrong in a request's JSON, without the parser's internals. */
  static String describe(JsonProcessingException e) {
    String what = String.valueOf(e.getOriginalMessage()).lines().findFirst().orElse("");
    int internals = what.indexOf(" (start marker at ");
    if (internals < 0) {
      internals = what.indexOf(" at [Source");
    }
    if (internals >= 0) {
      what = what.substring(0, internals);
    }
    what = what.replaceAll(" \\(code \\d+\\)", "").replace("Unexpected", "unexpected");
    JsonLocation at = e.getLocation();
    return what + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr()
        + ")");
  }

  private static int integer(String field, Object value) {
    if (value instanceof Integer i) {
      return i;
    }
    if (value instanceof Long l && l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE) {
      return (int) (long) l;
    }
    throw new IllegalArgumentException("\"" + field + "\" must be a whole number like 4, not "
        + describe(value));
  }

  /** A JSON value as a message shows it: {@code the string "3"}, {@code 2.5}. */
  private static String describe(Object value) {
    if (value instanceof String s) {
      return "the string \"" + s + "\"";
    }
    if (value instanceof JsonObject || value instanceof Map) {
      return "an object";
    }
    if (value instanceof JsonArray || value instanceof List) {
      return "an array";
    }
    return String.valueOf(value);
  }

  private static Map<String, Object> described(CheckpointMetadata m, String key) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("checkpointId", m.checkpointId());
    out.put("kind", m.kind());
    out.put("metadataKey", key);
    return out;
  }

  private static void reply(RoutingContext ctx, CompletableFuture<?> result) {
    result.whenComplete((value, error) -> {
      if (error == null) {
        try {
          ctx.response().putHeader("Content-Type", "application/json")
              .end(Buffer.buffer(JSON.writeValueAsBytes(value)));
        } catch (JsonProcessingException e) {
          error(ctx, 500, "cannot encode the response: " + e.getMessage());
        }
        return;
      }
      Throwable cause = unwrap(error);
      if (cause instanceof NotFound || cause instanceof UnknownJobException) {
        error(ctx, 404, cause.getMessage());
      } else if (cause instanceof RescaleConflictException) {
        error(ctx, 409, cause.getMessage());
      } else if (cause instanceof IllegalArgumentException) {
        error(ctx, 400, cause.getMessage());
      } else if (cause instanceof IllegalStateException) {
        error(ctx, 409, cause.getMessage());
      } else {
        LOG.warn("Request {} {} failed", ctx.request().method(), ctx.request().path(), cause);
        error(ctx, 500, rootMessage(cause));
      }
    });
  }

  /** A resource the request names does not exist (answered 404). */
  private static final class NotFound extends RuntimeException {
    NotFound(String message) {
      super(message);
    }
  }

  private static Throwable unwrap(Throwable e) {
    Throwable c = e;
    while ((c instanceof CompletionException || c instanceof ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }

  private static String rootMessage(Throwable e) {
    Throwable c = e;
    while (c != null && c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c == null ? "unknown" : String.valueOf(c.getMessage() != null ? c.getMessage() : c);
  }

  private static void error(RoutingContext ctx, int status, String message) {
    json(ctx, status, new JsonObject().put("error", message).put("status", status));
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    if (ctx.response().ended()) {
      return;
    }
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
        .end(body.encode());
  }
}
