package io.stratus.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One benchmark contender in its own JVM, optionally in its own memory cgroup (v1) whose limit
 * covers heap, off-heap and page cache together, so that no contender reads its state from
 * memory another one is denied. The child reports results as lines {@code RESULT {json}} and
 * progress as lines {@code PROGRESS text} (echoed); the rest of its output is kept as a tail for
 * the error message if it fails.
 */
public final class ChildJvm {

  static final String RESULT = "RESULT ";
  static final String PROGRESS = "PROGRESS ";
  private static final Path CGROUPS = Path.of("/sys/fs/cgroup/memory");

  private ChildJvm() {}

  /** Whether memory budgets can be enforced here (a writable cgroup v1 memory hierarchy). */
  public static boolean canLimitMemory() {
    return Files.isWritable(CGROUPS);
  }

  /** Prints a result line for the driver. */
  public static void result(Map<String, Object> result) throws IOException {
    System.out.println(RESULT + new ObjectMapper().writeValueAsString(result));
  }

  /** Prints a progress line the driver echoes. */
  public static void progress(String text) {
    System.out.println(PROGRESS + text);
  }

  /**
   * Runs {@code mainClass args} in a JVM with {@code jvmOptions}, working directory
   * {@code dir}, in a memory cgroup of {@code budgetMiB} when that is above 0, with
   * {@code environment} added to its environment (the way to hand it credentials: not on a
   * command line anyone can list); returns its result lines.
   */
  public static List<Map<String, Object>> run(String name, String classpath, String mainClass,
      List<String> args, Path dir, List<String> jvmOptions, long budgetMiB,
      Map<String, String> environment) throws Exception {
    Path group = budgetMiB > 0 ? memoryGroup(name, budgetMiB) : null;
    List<String> command = new ArrayList<>();
    if (group != null) {
      // The shell joins the group before it becomes the JVM, so every page the JVM touches
      // (its pre-touched heap included) is charged to the budget.
      command.addAll(List.of("sh", "-c", "echo $$ > '" + group.resolve("cgroup.procs")
          + "' && exec \"$0\" \"$@\""));
    }
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", absolute(classpath), mainClass));
    command.addAll(args);
    // Run in the contender's folder: a JVM crash report lands there, not in the repository.
    ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile())
        .redirectErrorStream(true);
    builder.environment().putAll(environment);
    Process p = builder.start();
    List<Map<String, Object>> results = new ArrayList<>();
    List<String> tail = new ArrayList<>();
    ObjectMapper json = new ObjectMapper();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(),
        StandardCharsets.UTF_8))) {
      for (String line = out.readLine(); line != null; line = out.readLine()) {
        if (line.startsWith(RESULT)) {
          @SuppressWarnings("unchecked")
          Map<String, Object> parsed = json.readValue(line.substring(RESULT.length()), Map.class);
          results.add(parsed);
        } else if (line.startsWith(PROGRESS)) {
          System.out.println("    " + line.substring(PROGRESS.length()));
        } else {
          tail.add(line);
          if (tail.size() > 30) {
            tail.remove(0);
          }
        }
      }
    } finally {
      if (!p.waitFor(10, TimeUnit.MINUTES)) {
        p.destroyForcibly().waitFor();
      }
      if (group != null) {
        Files.deleteIfExists(group);
      }
    }
    if (results.isEmpty()) {
      throw new IllegalStateException(name + " exited " + p.exitValue()
          + " without a result; last output:\n" + String.join("\n", tail));
    }
    if (p.exitValue() != 0) {
      System.out.println("  (" + name + " exited " + p.exitValue()
          + " after reporting its result; last output:\n" + String.join("\n", tail) + ")");
    }
    return results;
  }

  /** The classpath with every entry absolute: the child runs in another folder. */
  private static String absolute(String classpath) {
    List<String> out = new ArrayList<>();
    for (String entry : classpath.split(File.pathSeparator)) {
      boolean wildcard = entry.endsWith("*");
      Path p = Path.of(wildcard ? entry.substring(0, entry.length() - 1) : entry)
          .toAbsolutePath();
      out.add(wildcard ? p + File.separator + "*" : p.toString());
    }
    return String.join(File.pathSeparator, out);
  }

  /** A memory cgroup limited to {@code budgetMiB}, created if missing. */
  private static Path memoryGroup(String name, long budgetMiB) throws IOException {
    Path group = CGROUPS.resolve("stratus-bench-" + name.replaceAll("[^A-Za-z0-9_.-]", "_"));
    if (!Files.isDirectory(group)) {
      Files.createDirectory(group);
    }
    Files.writeString(group.resolve("memory.limit_in_bytes"), String.valueOf(budgetMiB << 20));
    return group;
  }
}
