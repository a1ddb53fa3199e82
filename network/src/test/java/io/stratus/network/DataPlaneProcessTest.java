package io.stratus.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data planes in separate JVMs on 127.0.0.1 ({@link DataPlaneNode}): skewed load, a slow and a
 * stopped consumer, three processes, and processes killed with SIGKILL mid-stream.
 */
class DataPlaneProcessTest {

  @TempDir
  Path dir;
  private final List<Node> nodes = new ArrayList<>();

  /** A child JVM running {@link DataPlaneNode}; its output goes to a file. */
  private final class Node {
    final Process process;
    final Path output;

    Node(String... args) throws IOException {
      List<String> command = new ArrayList<>(List.of(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
          "-XX:+UseSerialGC", "-cp", classpath(), DataPlaneNode.class.getName()));
      command.addAll(List.of(args));
      output = Files.createTempFile(dir, args[0] + "-", ".out");
      process = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(output.toFile()).start();
      nodes.add(this);
    }

    String output() {
      try {
        return Files.readString(output);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }

    /** Waits for a line matching {@code regex}; returns its first group. */
    String await(String regex, Duration atMost) {
      Pattern p = Pattern.compile(regex, Pattern.MULTILINE);
      String[] found = new String[1];
      Awaitility.await(regex).atMost(atMost).pollInterval(Duration.ofMillis(20)).until(() -> {
        Matcher m = p.matcher(output());
        if (m.find()) {
          found[0] = m.groupCount() > 0 ? m.group(1) : m.group();
          return true;
        }
        if (!process.isAlive()) {
          throw new AssertionError("exited before '" + regex + "':\n" + output());
        }
        return false;
      });
      return found[0];
    }

    String address() {
      return await("^listening (\\S+)$", Duration.ofSeconds(30));
    }

    void kill9() throws InterruptedException {
      process.destroyForcibly();
      assertTrue(process.waitFor(10, TimeUnit.SECONDS));
    }
  }

  private static String classpath() {
    String cp = System.getProperty("surefire.test.class.path",
        System.getProperty("java.class.path"));
    List<String> absolute = new ArrayList<>();
    for (String entry : cp.split(File.pathSeparator)) {
      absolute.add(Path.of(entry).toAbsolutePath().toString());
    }
    return String.join(File.pathSeparator, absolute);
  }

  @AfterEach
  void stop() throws InterruptedException {
    for (Node n : nodes) {
      n.process.destroyForcibly();
      n.process.waitFor(10, TimeUnit.SECONDS);
    }
  }

  private static void assertNoViolation(Node consumer) {
    assertFalse(consumer.output().contains("violation"), consumer.output());
  }

  private static long completed(Node consumer, String key) {
    String line = consumer.await("^(complete " + key + " \\d+ \\d+)$", Duration.ofSeconds(60));
    return Long.parseLong(line.split(" ")[2]);
  }

  private static long completedAfterMillis(Node consumer, String key) {
    String line = consumer.await("^(complete " + key + " \\d+ \\d+)$", Duration.ofSeconds(60));
    return Long.parseLong(line.split(" ")[3]);
  }

  @Test
  void twoJvmsUnderSkewedLoadLoseNothingAndKeepOrder() throws Exception {
    Node consumer = new Node("consumer", "--id", "c1");
    Node producer = new Node("producer", "--id", "p1", "--to", "c1=" + consumer.address(),
        "--records", "400000,40000,400,1");
    assertEquals(400_000, completed(consumer, "ch0"));
    assertEquals(40_000, completed(consumer, "ch1"));
    assertEquals(400, completed(consumer, "ch2"));
    assertEquals(1, completed(consumer, "ch3"));
    producer.await("^done$", Duration.ofSeconds(30));
    assertNoViolation(consumer);
  }

  @Test
  void aSlowConsumerHoldsBackOnlyItsOwnChannel() throws Exception {
    // 20,000 records of 100 B are about 70 buffers: 50 ms each makes ch0 take 3.5 s, far more
    // than the others need even while the producer JVM warms up on a busy machine.
    Node consumer = new Node("consumer", "--id", "c1", "--slow", "ch0:50");
    new Node("producer", "--id", "p1", "--to", "c1=" + consumer.address(),
        "--records", "20000,20000,20000");
    long slow = completedAfterMillis(consumer, "ch0");
    long fast1 = completedAfterMillis(consumer, "ch1");
    long fast2 = completedAfterMillis(consumer, "ch2");
    assertTrue(slow >= 3_000, "the slow channel took only " + slow + " ms");
    assertTrue(fast1 < slow / 2 && fast2 < slow / 2, "channels beside a slow one took " + fast1
        + " and " + fast2 + " ms, the slow one " + slow + " ms:\n" + consumer.output());
    assertNoViolation(consumer);
  }

  @Test
  void aStoppedConsumerBoundsTheProducersMemory() throws Exception {
    Node consumer = new Node("consumer", "--id", "c1", "--stop", "ch0:3");
    // 100 MB for the stopped channel: the producer may hold only its credits' worth of it.
    Node producer = new Node("producer", "--id", "p1", "--to", "c1=" + consumer.address(),
        "--records", "1000000,50000,50000");
    assertEquals(50_000, completed(consumer, "ch1"));
    assertEquals(50_000, completed(consumer, "ch2"));
    Awaitility.await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3))
        .until(() -> !consumer.output().contains("complete ch0"));
    long memory = 0;
    Matcher m = Pattern.compile("^memory (\\d+)$", Pattern.MULTILINE).matcher(producer.output());
    while (m.find()) {
      memory = Math.max(memory, Long.parseLong(m.group(1)));
    }
    assertTrue(memory > 0 && memory < 32L << 20, "the producer's pooled memory reached "
        + memory + " bytes with a stopped consumer");
    assertNoViolation(consumer);
  }

  @Test
  void threeJvmsTwoProducersIntoOneConsumer() throws Exception {
    Node consumer = new Node("consumer", "--id", "c1");
    String address = consumer.address();
    new Node("producer", "--id", "p1", "--to", "c1=" + address, "--records", "100000,7",
        "--key-prefix", "a");
    new Node("producer", "--id", "p2", "--to", "c1=" + address, "--records", "3,100000",
        "--key-prefix", "b");
    assertEquals(100_000, completed(consumer, "a0"));
    assertEquals(7, completed(consumer, "a1"));
    assertEquals(3, completed(consumer, "b0"));
    assertEquals(100_000, completed(consumer, "b1"));
    assertNoViolation(consumer);
  }

  @Test
  void aProducerKilledMidStreamFailsTheConsumersChannelsAtOnce() throws Exception {
    Node consumer = new Node("consumer", "--id", "c1", "--slow", "ch0:50");
    Node producer = new Node("producer", "--id", "p1", "--to", "c1=" + consumer.address(),
        "--records", "100000000,100000000");
    consumer.await("^opened ch1$", Duration.ofSeconds(30));
    long killed = System.nanoTime();
    producer.kill9();
    String failure = consumer.await("^failed ch1 (.*)$", Duration.ofSeconds(5));
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
    assertTrue(failure.contains("worker p1"), failure);
    assertTrue(millis < 3_000, "the consumer noticed after " + millis + " ms");
    assertNoViolation(consumer);
  }

  @Test
  void aConsumerKilledMidStreamFailsTheProducersChannelsAtOnce() throws Exception {
    Node consumer = new Node("consumer", "--id", "c1");
    Node producer = new Node("producer", "--id", "p1", "--to", "c1=" + consumer.address(),
        "--records", "100000000");
    producer.await("^memory", Duration.ofSeconds(30));
    consumer.kill9();
    String failure = producer.await("^failed ch0 (.*)$", Duration.ofSeconds(5));
    assertTrue(failure.contains("worker c1"), failure);
  }
}
