package io.stratus.examples;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;

/**
 * The subcommands that talk to a running coordinator's REST API: {@code jobs}, {@code job},
 * {@code rescale}, {@code checkpoint}, {@code savepoint}, {@code stop}, {@code cancel}. They
 * print the JSON answer; a 4xx or 5xx answer prints its error and exits with 1.
 */
final class ApiCommands {

  private static final LinkedHashMap<String, String> OPTIONS = new LinkedHashMap<>();

  static {
    OPTIONS.put("--api URL", "the coordinator's API (default http://127.0.0.1:8081)");
    OPTIONS.put("--token T", "bearer token (default: $STRATUS_API_TOKEN)");
    OPTIONS.put("--operator UID", "rescale: only this keyed operator (default: all)");
    OPTIONS.put("--name NAME", "savepoint: its name (default: savepoint-<time>)");
    OPTIONS.put("--savepoint NAME", "stop: the final savepoint's name");
    OPTIONS.put("--help", "this text");
  }

  static final String USAGE = """
        jobs                    list the jobs
        job JOB                 a job's status: tasks, key groups, checkpoints, throughput
        rescale JOB N           rescale JOB's keyed operators to parallelism N
        checkpoint JOB          take a checkpoint now
        savepoint JOB           take a savepoint
        stop JOB                stop JOB with a savepoint
        cancel JOB              cancel JOB
      """;

  private ApiCommands() {}

  static int run(String command, List<String> args) {
    List<String> positional = new ArrayList<>();
    List<String> options = new ArrayList<>();
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (a.startsWith("--")) {
        options.add(a);
        if (!a.contains("=") && !a.equals("--help") && i + 1 < args.size()) {
          options.add(args.get(++i));
        }
      } else {
        positional.add(a);
      }
    }
    CommandLineOptions o = CommandLineOptions.parse(options,
        Set.of("--api", "--token", "--operator", "--name", "--savepoint"), Set.of("--help"));
    if (o.has("--help")) {
      System.out.print("Usage: stratus <command> [args] [options]\n\n" + USAGE + "\n"
          + CommandLineOptions.describe(OPTIONS));
      return 0;
    }
    int arity = command.equals("jobs") ? 0 : command.equals("rescale") ? 2 : 1;
    if (positional.size() != arity) {
      throw new IllegalArgumentException(command + " takes " + arity + " argument(s), got "
          + positional + " (see --help)");
    }
    String api = o.string("--api", "http://127.0.0.1:8081").replaceAll("/+$", "");
    String token = o.string("--token", System.getenv("STRATUS_API_TOKEN"));
    String job = arity > 0 ? "/jobs/" + positional.get(0) : "/jobs";
    return switch (command) {
      case "jobs", "job" -> call(api, token, "GET", job, null);
      case "rescale" -> {
        int p;
        try {
          p = Integer.parseInt(positional.get(1));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("parallelism must be an integer, was '"
              + positional.get(1) + "'");
        }
        yield call(api, token, "POST", job + "/rescale", o.has("--operator")
            ? "{\"operators\": {\"" + o.string("--operator", "") + "\": " + p + "}}"
            : "{\"parallelism\": " + p + "}");
      }
      case "checkpoint" -> call(api, token, "POST", job + "/checkpoints", null);
      case "savepoint" -> call(api, token, "POST", job + "/savepoints",
          o.has("--name") ? "{\"name\": \"" + o.string("--name", "") + "\"}" : null);
      case "stop" -> call(api, token, "POST", job + "/stop",
          o.has("--savepoint") ? "{\"savepoint\": \"" + o.string("--savepoint", "") + "\"}"
              : null);
      case "cancel" -> call(api, token, "DELETE", job, null);
      default -> throw new IllegalArgumentException("unknown command '" + command + "'");
    };
  }

  private static int call(String api, String token, String method, String path, String body) {
    URI uri;
    try {
      uri = URI.create(api + path);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--api must be a URL like http://127.0.0.1:8081, was '"
          + api + "'");
    }
    HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(5))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    if (token != null && !token.isBlank()) {
      request.header("Authorization", "Bearer " + token);
    }
    try {
      HttpResponse<String> r = HttpClient.newHttpClient().send(request.build(),
          HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() >= 400) {
        System.err.println("stratus: " + method + " " + path + " -> " + r.statusCode() + " "
            + r.body());
        return 1;
      }
      System.out.println(r.body());
      return 0;
    } catch (ConnectException e) {
      System.err.println("stratus: no coordinator answers at " + api
          + " (start one with 'stratus coordinator' or 'stratus demo', or pass --api)");
      return 1;
    } catch (IOException e) {
      System.err.println("stratus: " + method + " " + uri + " failed: " + e.getMessage());
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 130;
    }
  }
}
