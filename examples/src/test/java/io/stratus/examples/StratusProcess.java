package io.stratus.examples;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;

/**
 * The {@code stratus} command in a child JVM on this machine, as a user runs it: its output in
 * a file, a stop signal as a terminal or a service manager sends it, killed when the test ends.
 */
final class StratusProcess implements AutoCloseable {

  private final Process process;
  private final Path output;

  private StratusProcess(Process process, Path output) {
    this.process = process;
    this.output = output;
  }

  /**
   * Starts {@code stratus args...} in {@code dir}, with {@code env} added to (or, for null
   * values, removed from) this process's environment.
   */
  static StratusProcess start(Path dir, Map<String, String> env, String... args)
      throws IOException {
    return start(dir, env, List.of(), args);
  }

  /** As {@link #start(Path, Map, String...)}, with more JVM options. */
  static StratusProcess start(Path dir, Map<String, String> env, List<String> jvmOptions,
      String... args) throws IOException {
    // Up to seven of these JVMs share two cores in one test: the client compiler alone starts
    // them sooner and leaves the CPU to the jobs, which run at a few thousand records/s here.
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
        "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
    command.addAll(jvmOptions);
    // As the stratus script starts it: Hazelcast reads JVM internals and warns without these.
    command.addAll(List.of("--add-modules", "java.se",
        "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
        "--add-opens", "java.base/java.lang=ALL-UNNAMED",
        "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
        "--add-opens", "java.management/sun.management=ALL-UNNAMED",
        "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED"));
    command.addAll(List.of("-cp", classpath(), StratusCli.class.getName()));
    command.addAll(List.of(args));
    Files.createDirectories(dir);
    Path output = Files.createTempFile(dir, "stratus-", ".out");
    ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile())
        .redirectErrorStream(true).redirectOutput(output.toFile());
    env.forEach((k, v) -> {
      if (v == null) {
        builder.environment().remove(k);
      } else {
        builder.environment().put(k, v);
      }
    });
    return new StratusProcess(builder.start(), output);
  }

  /** Surefire's test classpath (its own class path is a manifest-only jar). */
  private static String classpath() {
    String cp = System.getProperty("surefire.test.class.path",
        System.getProperty("java.class.path"));
    List<String> absolute = new ArrayList<>();
    for (String entry : cp.split(File.pathSeparator)) {
      absolute.add(Path.of(entry).toAbsolutePath().toString());
    }
    return String.join(File.pathSeparator, absolute);
  }

  long pid() {
    return process.pid();
  }

  /** Everything it printed so far (stdout and stderr). */
  String output() {
    try {
      return Files.readString(output);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + output, e);
    }
  }

  /** Waits until its output contains {@code text}; fails with the output if it exits first. */
  StratusProcess awaitOutput(String text, Duration atMost) {
    Awaitility.await(text).atMost(atMost).pollInterval(Duration.ofMillis(100)).until(() -> {
      if (output().contains(text)) {
        return true;
      }
      if (!process.isAlive()) {
        throw new AssertionError("exited with " + process.exitValue() + " before printing '"
            + text + "':\n" + output());
      }
      return false;
    });
    return this;
  }

  /** Waits for its exit; returns the exit code. */
  int awaitExit(Duration atMost) throws InterruptedException {
    if (!process.waitFor(atMost.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("still running after " + atMost + ":\n" + output());
    }
    return process.exitValue();
  }

  /**
   * Sends SIGTERM, which the command handles as Ctrl-C (SIGINT). Not SIGINT itself: a shell
   * that runs the tests in the background starts its children with SIGINT ignored, and the JVM
   * then never sees it.
   */
  void terminate() throws IOException, InterruptedException {
    new ProcessBuilder("kill", "-TERM", String.valueOf(process.pid())).start().waitFor();
  }

  /** Kills it with SIGKILL (kill -9): no shutdown hook, no handler, nothing flushed. */
  void kill9() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  boolean alive() {
    return process.isAlive();
  }

  /** The first group of {@code regex} in the output; fails with the output when absent. */
  String find(String regex) {
    Matcher m = Pattern.compile(regex).matcher(output());
    if (!m.find()) {
      throw new AssertionError("no match for " + regex + " in:\n" + output());
    }
    return m.group(1);
  }

  @Override
  public void close() {
    process.destroyForcibly();
    try {
      process.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
