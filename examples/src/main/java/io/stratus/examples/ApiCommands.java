package io.stratus.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The commands that talk to a running coordinator's REST API. Each prints what happened for a
 * person (tables, dates, sizes with units), or the API's JSON with {@code --json}; a failed
 * call prints the API's error (or that no coordinator answers) and exits with 1.
 */
final class ApiCommands {

  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT);

  private ApiCommands() {}

  /** Where the API is, and the output format. */
  static final class ApiOptions {
    @Option(names = "--api", paramLabel = "URL", defaultValue = CoordinatorClient.DEFAULT_API,
        description = "the coordinator's API (default: ${DEFAULT-VALUE})")
    String api;

    @Option(names = "--token", paramLabel = "T", defaultValue = "${env:STRATUS_API_TOKEN}",
        description = "bearer token (default: $STRATUS_API_TOKEN)")
    String token;

    @Option(names = "--json", description = "print the API's JSON answer")
    boolean json;

    CoordinatorClient client() {
      return new CoordinatorClient(api, token);
    }
  }

  /** A call to the API and how to show its answer. */
  abstract static class ApiCommand implements Callable<Integer> {
    @Mixin
    ApiOptions options;
    @Spec
    CommandSpec spec;

    abstract JsonNode call(CoordinatorClient client)
        throws CoordinatorClient.ApiException, InterruptedException;

    abstract String describe(JsonNode answer, CoordinatorClient client)
        throws CoordinatorClient.ApiException, InterruptedException;

    @Override
    public Integer call() throws Exception {
      CoordinatorClient client = options.client();
      try {
        JsonNode answer = call(client);
        spec.commandLine().getOut().print(options.json ? JSON.writeValueAsString(answer) + "\n"
            : describe(answer, client));
        spec.commandLine().getOut().flush();
        return 0;
      } catch (CoordinatorClient.ApiException e) {
        spec.commandLine().getErr().println("stratus: " + e.getMessage());
        spec.commandLine().getErr().flush();
        return 1;
      }
    }
  }

  /** A call about one job. */
  abstract static class JobCommand extends ApiCommand {
    @Parameters(index = "0", paramLabel = "JOB", description = "the job's name")
    String name;
  }

  @Command(name = "jobs", mixinStandardHelpOptions = true, description = "List the jobs.")
  static final class Jobs extends ApiCommand {
    @Override
    JsonNode call(CoordinatorClient client)
        throws CoordinatorClient.ApiException, InterruptedException {
      return client.get("/jobs");
    }

    @Override
    String describe(JsonNode jobs, CoordinatorClient client)
        throws CoordinatorClient.ApiException, InterruptedException {
      if (jobs.isEmpty()) {
        return "No jobs on " + client.api() + " (start one with 'stratus submit JOB').\n";
      }
      TextTable table = new TextTable("JOB", "STATE", "PARALLELISM", ">TASKS", ">RECORDS/S",
          ">STATE SIZE", "LAST CHECKPOINT", ">RESTARTS");
      for (JsonNode summary : jobs) {
        JsonNode job = client.get("/jobs/" + summary.path("name").asText());
        table.row(job.path("name").asText(), job.path("state").asText(),
            parallelism(job.path("parallelism")), runningTasks(job),
            String.format("%,.0f", job.path("recordsPerSecond").asDouble()),
            Units.bytes(job.path("stateBytes").asLong()), lastCheckpoint(job),
            job.path("restarts").asInt());
      }
      return table.toString();
    }
  }

  @Command(name = "catalog", mixinStandardHelpOptions = true,
      description = "List the jobs the cluster can run, with their parameters.")
  static final class Catalog extends ApiCommand {
    @Override
    JsonNode call(CoordinatorClient client)
        throws CoordinatorClient.ApiException, InterruptedException {
      return client.get("/catalog");
    }

    @Override
    String describe(JsonNode jobs, CoordinatorClient client) {
      StringBuilder out = new StringBuilder();
      for (JsonNode job : jobs) {
        out.append(job.path("name").asText()).append(": ")
            .append(job.path("description").asText()).append('\n');
        job.path("parameters").fields().forEachRemaining(p -> out.append("  -p ")
            .append(p.getKey()).append("=...  ").append(p.getValue().asText()).append('\n'));
      }
      return out.toString();
    }
  }

  @Command(name = "job", mixinStandardHelpOptions = true,
      description = "A job's status: tasks with their key groups, checkpoints, throughput.")
  static final class Job extends JobCommand {

    @Override
    JsonNode call(CoordinatorClient client)
        throws CoordinatorClient.ApiException, InterruptedException {
      return client.get("/jobs/" + name);
    }

    @Override
    String describe(JsonNode job, CoordinatorClient client) {
      StringBuilder out = new StringBuilder();
      out.append(String.format("Job %s: %s (attempt %d, %d restart(s))%n",
          job.path("name").asText(), job.path("state").asText(), job.path("attempt").asInt(),
          job.path("restarts").asInt()));
      out.append(String.format("  parallelism %s, %d task(s) running%n",
          parallelism(job.path("parallelism")), runningTasks(job)));
      out.append(String.format("  %s records in, %,.0f records/s, %s of state%n",
          Units.count(job.path("recordsIn").asLong()), job.path("recordsPerSecond").asDouble(),
          Units.bytes(job.path("stateBytes").asLong())));
      out.append(String.format("  checkpoints: %d completed, %d aborted%n",
          job.path("completedCheckpoints").asLong(), job.path("abortedCheckpoints").asLong()));
      JsonNode rescale = job.path("lastRescale");
      if (!rescale.isMissingNode() && !rescale.isNull()) {
        out.append(String.format("  last rescale: %s -> %s in %s%n", rescale.path("from"),
            rescale.path("to"), Units.millis(rescale.path("totalMillis").asLong())));
      }
      if (!job.path("lastFailure").isNull() && !job.path("lastFailure").isMissingNode()) {
        out.append("  last failure: ").append(job.path("lastFailure").asText()).append('\n');
      }
      TextTable tasks = new TextTable("TASK", "OPERATOR", "WORKER", "KEY GROUPS", ">RECORDS",
          ">STATE SIZE", "FINISHED");
      for (JsonNode t : job.path("tasks")) {
        JsonNode kg = t.path("keyGroups");
        tasks.row(t.path("task").asText(), t.path("operator").asText(), t.path("worker").asText(),
            kg.isNull() || kg.isMissingNode() ? "-"
                : kg.path("start").asInt() + "-" + kg.path("end").asInt(),
            Units.count(t.path("records").asLong()), Units.bytes(t.path("stateBytes").asLong()),
            t.path("finished").asBoolean() ? "yes" : "no");
      }
      if (!tasks.isEmpty()) {
        out.append('\n').append(tasks);
      }
      TextTable checkpoints = new TextTable(">ID", "KIND", "COMPLETED", ">DURATION",
          ">UPLOADED", "METADATA");
      for (JsonNode c : job.path("checkpoints")) {
        checkpoints.row(c.path("id").asLong(), c.path("kind").asText(),
            Units.time(c.path("completedAt").asLong()),
            Units.millis(c.path("durationMillis").asLong()),
            Units.bytes(c.path("uploadedBytes").asLong()), c.path("metadataKey").asText());
      }
      if (!checkpoints.isEmpty()) {
        out.append('\n').append(checkpoints);
      }
      return out.toString();
    }
  }

  @Command(name = "graph", mixinStandardHelpOptions = true,
      description = "A job's graph as it runs: operators, the tasks they run chained in, and "
          + "the edges between them.")
  static final class Graph extends JobCommand {
    @Override
    JsonNode call(CoordinatorClient client)
        throws CoordinatorClient.ApiException, InterruptedException {
      return client.get("/jobs/" + name + "/graph");
    }

    @Override
    String describe(JsonNode graph, CoordinatorClient client) {
      Map<Integer, String> names = new LinkedHashMap<>();
      TextTable operators = new TextTable(">ID", "OPERATOR", "KIND", ">PARALLELISM", ">VERTEX",
          "UID");
      for (JsonNode op : graph.path("operators")) {
        names.put(op.path("id").asInt(), op.path("name").asText());
        operators.row(op.path("id").asInt(), op.path("name").asText(), op.path("kind").asText(),
            op.path("parallelism").asInt(), op.path("vertex").asInt(),
            op.path("uid").isMissingNode() ? "-" : op.path("uid").asText());
      }
      TextTable edges = new TextTable("FROM", "TO", "PARTITIONING", "CHAINED", "SERDE");
      for (JsonNode e : graph.path("edges")) {
        edges.row(names.get(e.path("from").asInt()), names.get(e.path("to").asInt()),
            e.path("partitioning").asText(), e.path("chained").asBoolean() ? "yes" : "no",
            e.path("serde").isNull() ? "-" : e.path("serde").asText());
      }
      return "Job " + name + " (operators of one vertex run chained in one task)\n\n"
          + operators + "\n" + edges;
    }
  }

  @Command(name = "submit", mixinStandardHelpOptions = true,
      description = "Start a job of the coordinator's binary, fresh or from a checkpoint or "
          + "savepoint; answers once it runs.")
  static final class Submit extends JobCommand {

    @Option(names = "--savepoint", paramLabel = "NAME",
        description = "start from this savepoint (its name or metadata key), checkpoint (its "
            + "number) or 'latest' (default: fresh state)")
    String savepoint;

    @Option(names = "--parallelism", paramLabel = "N",
        description = "parallelism of every keyed operator (default: the savepoint's, else "
            + "the job's own)")
    Integer parallelism;

    @Option(names = {"-p", "--param"}, paramLabel = "NAME=VALUE",
        description = "a job parameter (repeatable); 'stratus catalog' lists each job's")
    Map<String, String> parameters = new LinkedHashMap<>();

    @Override
    JsonNode call(CoordinatorClient client)
        throws CoordinatorClient.ApiException, InterruptedException {
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("job", name);
      if (!parameters.isEmpty()) {
        body.put("parameters", parameters);
      }
      if (savepoint != null) {
        body.put("savepoint", savepoint);
      }
      if (parallelism != null) {
        body.put("parallelism", parallelism);
      }
      return client.post("/jobs", body, Duration.ofMinutes(5));
    }

    @Override
    String describe(JsonNode job, CoordinatorClient client) {
      return String.format("Started %s (attempt %d) %s at parallelism %s.%n",
          job.path("name").asText(), job.path("attempt").asInt(),
          savepoint == null ? "with fresh state" : "from " + savepoint,
          parallelism(job.path("parallelism")));
    }
  }

  @Command(name = "checkpoints", mixinStandardHelpOptions = true,
      description = "List the job's retained checkpoints and its savepoints: what it can start "
          + "from.")
  static final class Checkpoints extends JobCommand {

    @Override
    JsonNode call(CoordinatorClient client)
        throws CoordinatorClient.ApiException, InterruptedException {
      return client.get("/jobs/" + name + "/checkpoints");
    }

    @Override
    String describe(JsonNode points, CoordinatorClient client) {
      if (points.isEmpty()) {
        return "Job " + name + " has no checkpoint or savepoint.\n";
      }
      TextTable table = new TextTable("KIND", "NAME", ">ID", "COMPLETED", ">SOURCE RECORDS",
          "PARALLELISM");
      for (JsonNode p : points) {
        table.row(p.path("kind").asText(), p.path("name").asText(),
            p.path("checkpointId").asLong(), Units.time(p.path("completedAt").asLong()),
            Units.count(p.path("sourceRecords").asLong()), parallelism(p.path("parallelism")));
      }
      return table + "Start from one with 'stratus submit " + name + " --savepoint NAME'.\n";
    }
  }

  @Command(name = "rescale", mixinStandardHelpOptions = true,
      description = "Rescale a job's keyed operators; answers when it runs at the new "
          + "parallelism.")
  static final class Rescale extends JobCommand {
    @Parameters(index = "1", paramLabel = "N", description = "the new parallelism")
    int parallelism;

    @Option(names = "--operator", paramLabel = "UID",
        description = "only this keyed operator (default: all)")
    String operator;

    @Override
    JsonNode call(CoordinatorClient client)
        throws CoordinatorClient.ApiException, InterruptedException {
      Object body = operator == null ? Map.of("parallelism", parallelism)
          : Map.of("operators", Map.of(operator, parallelism));
      return client.post("/jobs/" + name + "/rescale", body, Duration.ofMinutes(5));
    }

    @Override
    String describe(JsonNode r, CoordinatorClient client) {
      if (r.path("checkpointId").asLong() < 0) {
        return String.format("%s already runs at %s: nothing to do.%n", name,
            parallelism(r.path("from")));
      }
      return String.format("Rescaled %s %s -> %s in %s (checkpoint %s, stop %s, deploy and "
              + "restore %s, to first record %s).%n", name, parallelism(r.path("from")),
          parallelism(r.path("to")), Units.millis(r.path("totalMillis").asLong()),
          Units.millis(r.path("checkpointMillis").asLong()),
          Units.millis(r.path("stopMillis").asLong()),
          Units.millis(r.path("deployMillis").asLong()),
          Units.millis(r.path("firstRecordMillis").asLong()));
    }
  }

  @Command(name = "workers", mixinStandardHelpOptions = true,
      description = "List the live workers.")
  static final class Workers extends ApiCommand {
    @Override
    JsonNode call(CoordinatorClient client)
        throws CoordinatorClient.ApiException, InterruptedException {
      return client.get("/workers");
    }

    @Override
    String describe(JsonNode workers, CoordinatorClient client) {
      if (workers.isEmpty()) {
        return "No worker has joined " + client.api() + " (start one with 'stratus worker "
            + "--coordinator HOST:PORT').\n";
      }
      TextTable table = new TextTable("WORKER", "DATA SERVER", ">TASKS", ">CACHE HITS",
          ">CACHE MISSES", "LAST HEARTBEAT", "DRAINING");
      for (JsonNode w : workers) {
        table.row(w.path("id").asText(), w.path("dataAddress").asText("-"),
            w.path("tasks").asInt(), Units.count(w.path("cacheHits").asLong()),
            Units.count(w.path("cacheMisses").asLong()),
            Units.time(w.path("lastHeartbeat").asLong()),
            w.path("draining").asBoolean() ? "yes" : "no");
      }
      return table.toString();
    }
  }

  @Command(name = "drain", mixinStandardHelpOptions = true,
      description = "Move every task off a worker (each job on it is rescaled at its "
          + "parallelism onto the others); the worker stays, with no tasks, until it stops.")
  static final class Drain extends ApiCommand {
    @Parameters(index = "0", paramLabel = "WORKER", description = "the worker's name")
    String worker;

    @Override
    JsonNode call(CoordinatorClient client)
        throws CoordinatorClient.ApiException, InterruptedException {
      return client.post("/workers/" + worker + "/drain", null, Duration.ofMinutes(5));
    }

    @Override
    String describe(JsonNode r, CoordinatorClient client) {
      return r.path("jobsMoved").isEmpty() ? "Worker " + worker + " drained: no job ran on it.\n"
          : "Worker " + worker + " drained: moved " + r.path("jobsMoved") + ".\n";
    }
  }

  @Command(name = "checkpoint", mixinStandardHelpOptions = true,
      description = "Take a checkpoint now.")
  static final class Checkpoint extends JobCommand {

    @Override
    JsonNode call(CoordinatorClient client)
        throws CoordinatorClient.ApiException, InterruptedException {
      return client.post("/jobs/" + name + "/checkpoints", null, Duration.ofMinutes(10));
    }

    @Override
    String describe(JsonNode c, CoordinatorClient client) {
      return String.format("Checkpoint %d of %s completed: %s%n", c.path("checkpointId").asLong(),
          name, c.path("metadataKey").asText());
    }
  }

  @Command(name = "savepoint", mixinStandardHelpOptions = true,
      description = "Take a savepoint (never deleted by checkpoint retention).")
  static final class Savepoint extends JobCommand {

    @Option(names = "--name", paramLabel = "NAME",
        description = "the savepoint's name (default: savepoint-<time>)")
    String savepoint;

    @Override
    JsonNode call(CoordinatorClient client)
        throws CoordinatorClient.ApiException, InterruptedException {
      return client.post("/jobs/" + name + "/savepoints",
          savepoint == null ? null : Map.of("name", savepoint), Duration.ofMinutes(10));
    }

    @Override
    String describe(JsonNode c, CoordinatorClient client) {
      return String.format("Savepoint #%d of %s completed: %s%n", c.path("checkpointId").asLong(),
          name, c.path("metadataKey").asText());
    }
  }

  @Command(name = "stop", mixinStandardHelpOptions = true,
      description = "Stop a job with a savepoint.")
  static final class Stop extends JobCommand {

    @Option(names = "--savepoint", paramLabel = "NAME",
        description = "the savepoint's name (default: stop-<time>)")
    String savepoint;

    @Override
    JsonNode call(CoordinatorClient client)
        throws CoordinatorClient.ApiException, InterruptedException {
      return client.post("/jobs/" + name + "/stop",
          savepoint == null ? null : Map.of("savepoint", savepoint), Duration.ofMinutes(10));
    }

    @Override
    String describe(JsonNode c, CoordinatorClient client) {
      return String.format("Stopped %s with savepoint #%d: %s%nStart it again with 'stratus "
              + "submit %s --savepoint latest'.%n", name, c.path("checkpointId").asLong(),
          c.path("metadataKey").asText(), name);
    }
  }

  @Command(name = "cancel", mixinStandardHelpOptions = true,
      description = "Cancel a job without a savepoint (its checkpoints stay).")
  static final class Cancel extends JobCommand {

    @Override
    JsonNode call(CoordinatorClient client)
        throws CoordinatorClient.ApiException, InterruptedException {
      return client.delete("/jobs/" + name);
    }

    @Override
    String describe(JsonNode job, CoordinatorClient client) {
      return String.format("Job %s is %s.%n", name, job.path("state").asText());
    }
  }

  /** {@code profiles=4} for one operator, {@code a=2, b=4} for several. */
  static String parallelism(JsonNode perOperator) {
    List<String> parts = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = perOperator.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      parts.add(e.getKey() + "=" + e.getValue().asInt());
    }
    return parts.isEmpty() ? "-" : String.join(", ", parts);
  }

  private static long runningTasks(JsonNode job) {
    if (List.of("CANCELED", "FINISHED", "FAILED").contains(job.path("state").asText())) {
      return 0;
    }
    long running = 0;
    for (JsonNode t : job.path("tasks")) {
      if (!t.path("finished").asBoolean()) {
        running++;
      }
    }
    return running;
  }

  private static String lastCheckpoint(JsonNode job) {
    JsonNode all = job.path("checkpoints");
    if (all.isEmpty()) {
      return "-";
    }
    JsonNode c = all.get(all.size() - 1);
    return "#" + c.path("id").asLong() + " at " + Units.time(c.path("completedAt").asLong())
        + " (" + Units.millis(c.path("durationMillis").asLong()) + ")";
  }
}
