package io.stratus.examples;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.rescale.RestConfig;
import io.stratus.rescale.RestServer;
import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.api.StreamEnvironment;
import io.stratus.runtime.functions.Collector;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.serde.Serde;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.sink.DiscardingSink;
import io.stratus.runtime.source.Payment;
import io.stratus.runtime.source.PaymentGenerator;
import io.stratus.runtime.state.StateDescriptor;
import io.stratus.runtime.state.ValueState;
import io.stratus.scheduler.CheckpointConfig;
import io.stratus.scheduler.EmbeddedCluster;
import io.stratus.scheduler.JobController;
import io.stratus.scheduler.JobDefinition;
import io.stratus.scheduler.JobStatus;
import io.stratus.scheduler.RestartStrategy;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The main demo: a coordinator, workers and the REST API in one process over an S3-compatible
 * store (an embedded S3Proxy by default). A stateful job keeps a profile per card holder
 * (payment count, total, largest payment, last amounts and merchant, activity per hour of the
 * week) over a
 * generated payment stream, so its state grows to hundreds of MiB; it checkpoints every few
 * seconds, and is rescaled live 2 → 4 → 2 through the REST API while the demo prints
 * throughput, state size, checkpoints and each rescale's phases.
 */
final class JobDemo {

  private static final String JOB = "card-profiles";
  private static final String OPERATOR = "profiles";

  private static final LinkedHashMap<String, String> OPTIONS = new LinkedHashMap<>();

  static {
    OPTIONS.put("--users N", "distinct card holders (default 3000000)");
    OPTIONS.put("--phase-seconds N", "seconds to run before, between and after the "
        + "rescales (default 25)");
    OPTIONS.put("--workers N", "workers in the process (default 4)");
    OPTIONS.put("--api-port N", "REST API port (default 8081, 0 = any free one)");
    OPTIONS.put("--api-host H", "REST API interface (default 127.0.0.1; any other needs a "
        + "token)");
    OPTIONS.put("--api-token T", "bearer token for the API (default: $STRATUS_API_TOKEN)");
    DemoStorage.describe(OPTIONS);
    OPTIONS.put("--help", "this text");
  }

  /**
   * What the job keeps per card holder (the features a fraud check would read).
   *
   * @param payments       how many
   * @param totalCents     their sum
   * @param largestCents   the largest
   * @param previousCents  the amount of the one before the last
   * @param lastCents      the amount of the last
   * @param lastMerchant   where the last one went
   * @param hourOfWeek     payments per hour of the week (168 saturating one-byte counters)
   */
  public record Profile(long payments, long totalCents, long largestCents, long previousCents,
      long lastCents, String lastMerchant, byte[] hourOfWeek) {}

  /** Updates the card holder's profile with each payment. */
  static final class UpdateProfile extends KeyedProcessFunction<Long, Payment, Long> {
    private static final Serde<Profile> SERDE = Serdes.record(Profile.class);
    private transient ValueState<Profile> profile;

    @Override
    public void open(OpenContext context) {
      profile = context.state(new StateDescriptor.Value<>("profile", SERDE));
    }

    @Override
    public void processElement(Payment p, Context<Long> context, Collector<Long> out) {
      profile.value().thenAccept(old -> {
        byte[] hours = old == null ? new byte[168] : old.hourOfWeek();
        int hour = (int) ((p.timestamp() / 3_600_000L) % 168);
        if (hours[hour] != Byte.MAX_VALUE) {
          hours[hour]++;
        }
        profile.update(old == null
            ? new Profile(1, p.amountCents(), p.amountCents(), 0, p.amountCents(), p.merchant(),
                hours)
            : new Profile(old.payments() + 1, old.totalCents() + p.amountCents(),
                Math.max(old.largestCents(), p.amountCents()), old.lastCents(), p.amountCents(),
                p.merchant(), hours));
      });
    }
  }

  private JobDemo() {}

  /** {@code stratus demo}: the job, then live rescales 2 → 4 → 2 through the REST API. */
  static int run(List<String> args) {
    return start("demo", args, true);
  }

  /**
   * {@code stratus coordinator}: the same cluster, API and job, running until interrupted;
   * rescale it with {@code stratus rescale}.
   */
  static int coordinator(List<String> args) {
    return start("coordinator", args, false);
  }

  private static int start(String command, List<String> args, boolean scripted) {
    Set<String> withValue = new HashSet<>(DemoStorage.OPTIONS_WITH_VALUE);
    withValue.addAll(Set.of("--users", "--phase-seconds", "--workers", "--api-port",
        "--api-host", "--api-token"));
    Set<String> flags = new HashSet<>(DemoStorage.FLAGS);
    flags.add("--help");
    CommandLineOptions o = CommandLineOptions.parse(args, withValue, flags);
    if (o.has("--help")) {
      System.out.print("Usage: stratus " + command + " [options]\n\n"
          + (scripted ? "Runs a stateful job on an embedded cluster and rescales it live "
              + "2 -> 4 -> 2\nthrough the REST API."
              : "Runs a coordinator with embedded workers, the REST API and the card-profiles\n"
              + "job until interrupted (Ctrl-C); drive it with 'stratus jobs|rescale|...'.")
          + "\nCredentials for --s3-endpoint come from the AWS default chain "
          + "(AWS_ACCESS_KEY_ID,\nAWS_SECRET_ACCESS_KEY, ~/.aws, instance role).\n\n"
          + CommandLineOptions.describe(OPTIONS));
      return 0;
    }
    long users = o.positiveLong("--users", 3_000_000);
    long phaseSeconds = o.positiveLong("--phase-seconds", 25);
    int workers = (int) Math.min(64, o.positiveLong("--workers", 4));
    int apiPort = o.string("--api-port", "").equals("0") ? 0
        : (int) o.positiveLong("--api-port", 8081);
    RestConfig api = new RestConfig(o.string("--api-host", "127.0.0.1"), apiPort,
        o.string("--api-token", System.getenv("STRATUS_API_TOKEN")));
    try (DemoStorage storage = DemoStorage.open(o,
        "stratus-job-demo/" + Instant.now().getEpochSecond() + "/")) {
      return runJob(storage, users, scripted ? phaseSeconds : 0, workers, api);
    } catch (IOException e) {
      System.err.println("stratus " + command + ": " + e.getMessage());
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 130;
    }
  }

  /** Runs the job; scripted rescales when {@code phaseSeconds > 0}, else until interrupted. */
  private static int runJob(DemoStorage storage, long users, long phaseSeconds, int workers,
      RestConfig apiConfig) throws IOException, InterruptedException {
    System.out.println("Stratus: a stateful job on an embedded cluster");
    System.out.println("  object store: " + storage.describe());
    RuntimeConfig runtime = RuntimeConfig.defaults().withParallelism(2).withMaxParallelism(128);
    StreamEnvironment env = StreamEnvironment.plan(runtime);
    env.fromSource(new PaymentGenerator(42, users, Long.MAX_VALUE, 1000, 0, 0),
            WatermarkStrategy.noWatermarks(), "payments", 1)
        .keyBy(Payment::userId, Serdes.LONG)
        .process(new UpdateProfile(), OPERATOR)
        .sinkTo(new DiscardingSink<>());
    JobDefinition job = new JobDefinition(env.graph(JOB), runtime,
        CheckpointConfig.defaults().withInterval(Duration.ofSeconds(5)),
        RestartStrategy.exponentialBackoff(10, Duration.ofMillis(200), Duration.ofSeconds(10)));
    try (EmbeddedCluster cluster = new EmbeddedCluster(storage.objects(), workers,
        BlockCacheConfig.defaults().withDiskDirectory(storage.dataDir().resolve("cache")),
        Duration.ofMillis(500))) {
      RestServer rest;
      try {
        rest = RestServer.start(cluster.vertx(), cluster.coordinator(), apiConfig)
            .toCompletionStage().toCompletableFuture().join();
      } catch (RuntimeException e) {
        System.err.println("stratus: " + rootMessage(e) + " (choose another --api-port)");
        return 1;
      }
      try (rest) {
        String api = "http://" + apiConfig.host() + ":" + rest.port();
        System.out.printf("  %d workers, REST API on %s (try: curl %s/jobs/%s)%n%n", workers,
            api, api, JOB);
        cluster.catalog().register(job);
        JobController controller = cluster.coordinator().submit(JOB, null, Map.of());
        System.out.printf("%8s %7s %11s %10s %22s %9s%n", "time", "tasks", "records/s",
            "state", "last checkpoint", "restarts");
        long start = System.nanoTime();
        if (phaseSeconds == 0) {
          while (!controller.result().isDone()) {
            report(controller, start, 10);
          }
          System.out.println("Job ended: " + controller.result().join().state());
          return 0;
        }
        report(controller, start, phaseSeconds);
        for (int p : new int[] {4, 2}) {
          rescale(api, p, apiConfig.bearerToken());
          report(controller, start, phaseSeconds);
        }
        System.out.printf("%nStopping with a savepoint: %s%n", post(api + "/jobs/" + JOB
            + "/stop", "{\"savepoint\": \"demo-end\"}", apiConfig.bearerToken()));
        JobStatus end = controller.result().get(60, TimeUnit.SECONDS);
        System.out.printf("Done: %,d records, %.0f MiB of state, %d checkpoints, %d restarts.%n",
            end.recordsIn(), end.stateBytes() / 1048576.0, end.completedCheckpoints(),
            end.restarts());
        return 0;
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        System.err.println("stratus: " + rootMessage(e));
        return 1;
      }
    }
  }

  /** Prints a status line every 2 seconds for {@code seconds}. */
  private static void report(JobController job, long start, long seconds) throws
      InterruptedException, java.util.concurrent.ExecutionException,
      java.util.concurrent.TimeoutException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < until) {
      Thread.sleep(2_000);
      JobStatus s = job.status().get(10, TimeUnit.SECONDS);
      String checkpoint = "-";
      if (!s.checkpoints().isEmpty()) {
        JobStatus.CheckpointSummary c = s.checkpoints().get(s.checkpoints().size() - 1);
        checkpoint = String.format("#%d %d ms %.1f MiB", c.id(), c.durationMillis(),
            c.uploadedBytes() / 1048576.0);
      }
      System.out.printf("%7.0fs %7s %11.0f %6.0f MiB %22s %9d%n",
          (System.nanoTime() - start) / 1e9, s.parallelism().get(OPERATOR) + "",
          s.recordsPerSecond(), s.stateBytes() / 1048576.0, checkpoint, s.restarts());
    }
  }

  private static void rescale(String api, int parallelism, String token)
      throws InterruptedException {
    System.out.printf("%nPOST %s/jobs/%s/rescale {\"parallelism\": %d}%n", api, JOB,
        parallelism);
    String response = post(api + "/jobs/" + JOB + "/rescale",
        "{\"parallelism\": " + parallelism + "}", token);
    System.out.println("  -> " + response + "\n");
  }

  private static String post(String url, String body, String token)
      throws InterruptedException {
    try {
      HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url))
          .timeout(Duration.ofMinutes(2)).POST(HttpRequest.BodyPublishers.ofString(body));
      if (token != null) {
        request.header("Authorization", "Bearer " + token);
      }
      HttpResponse<String> r = HttpClient.newHttpClient().send(request.build(),
          HttpResponse.BodyHandlers.ofString());
      return r.statusCode() + " " + r.body();
    } catch (IOException e) {
      return "failed: " + e.getMessage();
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable c = e;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return String.valueOf(c.getMessage());
  }
}
