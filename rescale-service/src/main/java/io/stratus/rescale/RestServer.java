package io.stratus.rescale;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.stratus.scheduler.CheckpointMetadata;
import io.stratus.scheduler.CheckpointStorage;
import io.stratus.scheduler.Coordinator;
import io.stratus.scheduler.JobController;
import io.stratus.scheduler.JobStatus;
import io.stratus.scheduler.RescaleConflictException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.DecodeException;
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

  private Router router(Vertx vertx) {
    Router router = Router.router(vertx);
    if (config.bearerToken() != null) {
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
    router.route().handler(BodyHandler.create().setBodyLimit(64 * 1024));
    router.get("/jobs").handler(this::listJobs);
    router.get("/jobs/:id").handler(this::getJob);
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

  private void getJob(RoutingContext ctx) {
    JobController job = job(ctx);
    if (job != null) {
      reply(ctx, job.status());
    }
  }

  private void rescale(RoutingContext ctx) {
    JobController job = job(ctx);
    JsonObject body = body(ctx, true);
    if (job == null || body == null) {
      return;
    }
    CompletableFuture<Map<String, Integer>> target;
    try {
      Object all = body.getValue("parallelism");
      Object perOperator = body.getValue("operators");
      if ((all == null) == (perOperator == null)) {
        throw new IllegalArgumentException("give either \"parallelism\": N (every keyed "
            + "operator) or \"operators\": {\"<uid>\": N}");
      }
      if (all != null) {
        int p = integer("parallelism", all);
        target = job.status().thenApply(status -> {
          Map<String, Integer> every = new LinkedHashMap<>();
          status.parallelism().keySet().forEach(op -> every.put(op, p));
          return every;
        });
      } else {
        if (!(perOperator instanceof JsonObject ops) || ops.isEmpty()) {
          throw new IllegalArgumentException("\"operators\" must be a non-empty object of "
              + "operator uid to parallelism");
        }
        Map<String, Integer> some = new LinkedHashMap<>();
        for (String op : ops.fieldNames()) {
          some.put(op, integer("operators." + op, ops.getValue(op)));
        }
        target = CompletableFuture.completedFuture(some);
      }
    } catch (IllegalArgumentException e) {
      error(ctx, 400, e.getMessage());
      return;
    }
    reply(ctx, target.thenCompose(job::rescale));
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
    try {
      return new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      error(ctx, 400, "the body is not a JSON object: " + e.getMessage());
      return null;
    }
  }

  private static int integer(String field, Object value) {
    if (value instanceof Integer i) {
      return i;
    }
    if (value instanceof Long l && l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE) {
      return (int) (long) l;
    }
    throw new IllegalArgumentException("\"" + field + "\" must be an integer, not " + value);
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
      if (cause instanceof RescaleConflictException) {
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
    if (ctx.response().ended()) {
      return;
    }
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", message).put("status", status).encode());
  }
}
