package io.stratus.examples;

import io.stratus.scheduler.JobStatus;

/**
 * The lines a running cluster command prints: a header that names each column with its unit,
 * then one line per report.
 */
final class StatusLine {

  private static final String FORMAT = "%8s %12s %6s %10s %11s %11s %9s %14s %9s%n";

  String header() {
    return String.format(FORMAT, "time (s)", "parallelism", "tasks", "records/s", "state (MiB)",
        "checkpoint", "took (ms)", "uploaded (MiB)", "restarts");
  }

  /**
   * One report.
   *
   * @param seconds since the command started
   */
  String format(JobStatus s, double seconds) {
    long running = s.state().terminal() ? 0
        : s.tasks().stream().filter(t -> !t.finished()).count();
    String parallelism = s.parallelism().size() == 1
        ? String.valueOf(s.parallelism().values().iterator().next())
        : s.parallelism().values().toString();
    String id = "-";
    String took = "-";
    String uploaded = "-";
    if (!s.checkpoints().isEmpty()) {
      JobStatus.CheckpointSummary c = s.checkpoints().get(s.checkpoints().size() - 1);
      id = "#" + c.id() + (c.kind().equals("savepoint") ? " (savepoint)" : "");
      took = String.valueOf(c.durationMillis());
      uploaded = String.format("%.1f", c.uploadedBytes() / 1048576.0);
    }
    String state = s.state().name().equals("RUNNING") ? "" : " " + s.state();
    return String.format(FORMAT.replace("%n", "%s%n"), String.format("%.0f", seconds),
        parallelism, running, String.format("%.0f", s.recordsPerSecond()),
        String.format("%.1f", s.stateBytes() / 1048576.0), id, took, uploaded, s.restarts(),
        state);
  }
}
