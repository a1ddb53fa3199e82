package io.stratus.examples;

import io.stratus.network.DataPlaneConfig;
import java.time.Duration;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The options of {@code stratus demo}, which runs a whole cluster in this process. */
final class ClusterOptions {

  @Option(names = "--users", paramLabel = "N",
      description = "distinct card holders (default: 3,000,000; with --kafka 20,000, so that "
          + "cards have a history for the fraud check in seconds)")
  Long users;

  /** {@code --users}, or its default for the job. */
  long users(boolean kafka) {
    return users != null ? users : kafka ? 20_000 : 3_000_000;
  }

  @Option(names = "--workers", paramLabel = "N", defaultValue = "4",
      description = "workers in the process, 1 to 64 (default: ${DEFAULT-VALUE})")
  int workers;

  @CommandLine.Mixin
  ApiServerOptions api;

  @Option(names = "--exchange", paramLabel = "HOW", defaultValue = "memory",
      description = "how records move between the workers: memory, or network (each worker "
          + "runs a data server on 127.0.0.1 and records between workers cross TCP, as "
          + "between separate processes) (default: ${DEFAULT-VALUE})")
  String exchange;

  @Option(names = "--cluster-secret", paramLabel = "S",
      defaultValue = "${env:STRATUS_CLUSTER_SECRET}",
      description = "secret the workers' data servers prove to each other, 16 characters or "
          + "more (default: $STRATUS_CLUSTER_SECRET, else none)")
  String clusterSecret;

  @Option(names = "--fresh",
      description = "start over: remove the checkpoints, savepoints and state files earlier "
          + "runs left under the prefix (it lists what it removes)")
  boolean fresh;

  @Option(names = "--savepoint", paramLabel = "NAME",
      description = "start from this savepoint (its name or metadata key), checkpoint (its "
          + "number) or 'latest' (default: the newest an earlier run left, if any)")
  String savepoint;

  @Option(names = "--duration", paramLabel = "TIME", converter = DurationConverter.class,
      description = "stop with a savepoint after this long, e.g. 90s, 10m, 2h (default: run "
          + "until Ctrl-C)")
  Duration duration;

  /** Checks the values together; throws a usage error naming the option. */
  void check(CommandLine commandLine) {
    if (users != null && users < 1) {
      throw new CommandLine.ParameterException(commandLine, "--users must be at least 1, was "
          + users);
    }
    if (workers < 1 || workers > 64) {
      throw new CommandLine.ParameterException(commandLine, "--workers must be 1 to 64, was "
          + workers);
    }
    if (!exchange.equals("memory") && !exchange.equals("network")) {
      throw new CommandLine.ParameterException(commandLine, "--exchange must be memory or "
          + "network, was '" + exchange + "'");
    }
    if (fresh && savepoint != null) {
      throw new CommandLine.ParameterException(commandLine, "--fresh removes the savepoints "
          + "that --savepoint would start from: give one or the other");
    }
  }

  /** Each worker's data server with {@code --exchange network}; null for memory. */
  DataPlaneConfig dataPlane(CommandLine commandLine) {
    if (!exchange.equals("network")) {
      return null;
    }
    try {
      DataPlaneConfig config = DataPlaneConfig.defaults();
      return clusterSecret == null || clusterSecret.isEmpty() ? config
          : config.withSecret(clusterSecret);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(commandLine, e.getMessage());
    }
  }

  /** {@code 90s}, {@code 10m}, {@code 2h}, or plain seconds. */
  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      String v = value.trim().toLowerCase();
      long unit = v.endsWith("h") ? 3600 : v.endsWith("m") ? 60 : 1;
      String digits = v.replaceAll("[smh]$", "");
      try {
        long n = Long.parseLong(digits);
        if (n > 0) {
          return Duration.ofSeconds(Math.multiplyExact(n, unit));
        }
      } catch (NumberFormatException | ArithmeticException e) {
        // reported below
      }
      throw new CommandLine.TypeConversionException("'" + value + "' is not a duration like "
          + "90s, 10m or 2h");
    }
  }
}
