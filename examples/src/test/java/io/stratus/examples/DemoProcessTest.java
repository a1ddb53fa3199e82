package io.stratus.examples;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.s3.EmbeddedS3Server;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stratus demo} as a user runs it, in child JVMs: it keeps what earlier runs left and
 * resumes from it, refuses to run beside another demo on the same data, stops with a savepoint
 * on Ctrl-C or SIGTERM, and ends a failed job with a failure line and a non-zero exit.
 */
class DemoProcessTest {

  /** A small, quick job: no scripted rescales, an API on any free port. */
  private static final List<String> SMALL = List.of("--users", "20000", "--workers", "2",
      "--api-port", "0", "--phase-seconds", "0");
  private static final Duration START = Duration.ofSeconds(90);

  @TempDir
  Path dir;

  private final List<StratusProcess> processes = new ArrayList<>();

  @AfterEach
  void killLeftovers() {
    processes.forEach(StratusProcess::close);
  }

  private StratusProcess demo(Map<String, String> env, String... more) throws Exception {
    List<String> args = new ArrayList<>(List.of("demo"));
    args.addAll(SMALL);
    args.addAll(List.of(more));
    StratusProcess p = StratusProcess.start(dir, env, args.toArray(String[]::new));
    processes.add(p);
    return p;
  }

  private StratusProcess demo(String... more) throws Exception {
    return demo(Map.of(), more);
  }

  private Path savepointMetadata(String name) {
    return dir.resolve("data/s3/stratus/stratus-demo/jobs/card-profiles/savepoints")
        .resolve(name).resolve("_metadata");
  }

  @Test
  void aSecondRunResumesFromTheFirstRunsSavepointAndKeepsIt() throws Exception {
    StratusProcess first = demo("--duration", "4s");
    assertEquals(0, first.awaitExit(START), first.output());
    assertTrue(first.output().contains("starting fresh"), first.output());
    String savepoint = first.find("Stopped with savepoint (card-profiles-[0-9-]+) ");
    assertTrue(Files.exists(savepointMetadata(savepoint)), "the savepoint is not in the bucket");

    // The second run moves records between its workers over their data servers.
    StratusProcess second = demo("--duration", "3s", "--exchange", "network");
    assertEquals(0, second.awaitExit(START), second.output());
    assertTrue(second.output().contains("over their data servers, loopback TCP"),
        second.output());
    assertEquals(savepoint, second.find("resuming from savepoint (\\S+) "));
    long restoredRecords = Long.parseLong(
        second.find("\\(#\\d+, taken [^)]+\\): ([0-9,]+) payments").replace(",", ""));
    assertTrue(restoredRecords > 0, second.output());
    String restoredState = second.find("state of 2 task\\(s\\) in \\d+ files \\(([^)]+)\\)");
    assertFalse(restoredState.equals("0 B"), second.output());
    String next = second.find("Stopped with savepoint (card-profiles-[0-9-]+) ");
    assertFalse(next.equals(savepoint));
    // What the first run made is still there.
    assertTrue(Files.exists(savepointMetadata(savepoint)), "the second run deleted the first "
        + "run's savepoint");
    assertTrue(Files.exists(savepointMetadata(next)));

    // Not Stratus's: --fresh leaves it.
    Path foreign = dir.resolve("data/s3/stratus/stratus-demo/notes.txt");
    Files.writeString(foreign, "mine");
    StratusProcess fresh = demo("--duration", "3s", "--fresh");
    assertEquals(0, fresh.awaitExit(START), fresh.output());
    assertTrue(fresh.output().contains("--fresh: removing"), fresh.output());
    assertTrue(fresh.output().contains("2 savepoint(s) [" + savepoint),
        fresh.output());
    assertTrue(fresh.output().contains("starting fresh"), fresh.output());
    assertFalse(Files.exists(savepointMetadata(savepoint)));
    assertEquals("mine", Files.readString(foreign));
  }

  @Test
  void theKafkaDemoRescalesItsSourceWithItsOperatorAndWritesAlertsExactlyOnce()
      throws Exception {
    StratusProcess run = StratusProcess.start(dir, Map.of(), "demo", "--kafka", "--workers",
        "2", "--api-port", "0", "--kafka-rate", "5000", "--duration", "10s", "--phase-seconds",
        "4");
    processes.add(run);
    assertEquals(0, run.awaitExit(START), run.output());
    String out = run.output();
    assertTrue(out.contains("Stratus: the kafka-fraud job"), out);
    assertTrue(out.contains("Kafka: an embedded broker on 127.0.0.1:"), out);
    // The rescales (at 4 s and 8 s) move the Kafka source with the keyed operator.
    assertTrue(out.matches("(?s).*rescaled \\{[^}]*\\} -> \\{(\"payments\":4,\"fraud-check\":4|"
        + "\"fraud-check\":4,\"payments\":4)\\}.*"), out);
    String savepoint = run.find("Stopped with savepoint (kafka-fraud-[0-9-]+) ");
    assertTrue(Files.exists(dir.resolve("data/s3/stratus/stratus-demo/jobs/kafka-fraud/"
        + "savepoints").resolve(savepoint).resolve("_metadata")));
    long written = Long.parseLong(run.find("([0-9,]+) payments written to Kafka")
        .replace(",", ""));
    assertTrue(written > 10_000, out);
    // Every 2,000th payment is a stolen card's; most of those cards have a history by then.
    long alerts = Long.parseLong(run.find("([0-9,]+) alerts in topic 'alerts'")
        .replace(",", ""));
    assertTrue(alerts > 0 && alerts <= written / 2_000 + 1, out);
  }

  @Test
  void aSecondDemoOnTheSameDataRefusesNamingTheFirstWhichRunsOnAndStopsOnASignal()
      throws Exception {
    StratusProcess first = demo().awaitOutput("time (s)", START);
    StratusProcess second = demo();
    assertEquals(1, second.awaitExit(START), second.output());
    String refusal = second.output();
    assertTrue(refusal.contains("is in use by pid " + first.pid()), refusal);
    assertTrue(refusal.contains("(stratus demo, REST API http://127.0.0.1:"), refusal);
    assertFalse(refusal.contains("time (s)"), "the second demo ran a job:\n" + refusal);

    // The first goes on: more status lines, then a stop signal (as Ctrl-C) stops it with a
    // savepoint.
    int lines = first.output().split("\n").length;
    await().atMost(START)
        .until(() -> first.output().split("\n").length > lines + 2);
    first.terminate();
    assertEquals(0, first.awaitExit(START), first.output());
    String end = first.output();
    assertTrue(end.contains("Stopping with a savepoint"), end);
    String savepoint = first.find("Stopped with savepoint (card-profiles-[0-9-]+) ");
    assertTrue(Files.exists(savepointMetadata(savepoint)));
    assertFalse(end.contains("FAILED") || end.contains("ERROR"), end);
  }

  @Test
  void aJobWhoseBucketGoesAwayEndsWithAFailureLineAndANonZeroExit() throws Exception {
    EmbeddedS3Server s3 = EmbeddedS3Server.start(dir.resolve("outside-s3"));
    StratusProcess demo;
    try {
      s3.createBucket("jobs");
      Map<String, String> env = new HashMap<>();
      env.put("AWS_ACCESS_KEY_ID", s3.accessKey());
      env.put("AWS_SECRET_ACCESS_KEY", s3.secretKey());
      demo = demo(env, "--s3-endpoint", s3.endpoint().toString(), "--bucket", "jobs")
          .awaitOutput("time (s)", START);
    } finally {
      s3.close();
    }
    assertEquals(1, demo.awaitExit(START), demo.output());
    String out = demo.output();
    assertTrue(out.contains("stratus demo: job card-profiles FAILED"), out);
    assertFalse(out.contains("Stopped with savepoint"), out);
    assertFalse(out.contains(s3.secretKey()), "the secret key was printed");
  }

  @Test
  void aPortInUseIsReportedBeforeAnythingStarts() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      StratusProcess demo = StratusProcess.start(dir, Map.of(), "demo", "--api-port",
          String.valueOf(taken.getLocalPort()));
      processes.add(demo);
      assertEquals(1, demo.awaitExit(START), demo.output());
      String out = demo.output();
      assertTrue(out.contains("the REST API cannot listen on 127.0.0.1:" + taken.getLocalPort()),
          out);
      assertFalse(Files.exists(dir.resolve("data")), "storage was opened before the check");
    }
  }

  @Test
  void missingCredentialsAreNamedInOneLine() throws Exception {
    Map<String, String> env = new HashMap<>();
    for (String name : List.of("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
      env.put(name, null);
    }
    env.put("HOME", dir.toString());
    env.put("AWS_EC2_METADATA_DISABLED", "true");
    StratusProcess demo = StratusProcess.start(dir, env, "demo", "--s3-endpoint",
        "http://127.0.0.1:9", "--bucket", "somewhere");
    processes.add(demo);
    assertEquals(1, demo.awaitExit(START), demo.output());
    String out = demo.output().strip();
    assertEquals("stratus demo: no AWS credentials for http://127.0.0.1:9: set "
        + "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (with ~/.aws/credentials), "
        + "or run where an instance role provides them", out);
  }
}
