package io.stratus.examples;

import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The {@code stratus} command (picocli): the demo (a whole cluster in this process), the
 * cluster's processes ({@code coordinator}, {@code worker}), the store demo, and commands
 * against a running coordinator's REST API. Usage errors print one line naming the problem
 * and exit with 2.
 */
@Command(name = "stratus", mixinStandardHelpOptions = true, version = "stratus 0.1.0",
    description = "A stream-processing runtime whose keyed state lives in object storage.",
    subcommands = {
        StratusCli.Demo.class, CoordinatorCommand.class, WorkerCommand.class, StoreDemo.class, ApiCommands.Catalog.class, ApiCommands.Workers.class, ApiCommands.Drain.class,
        ApiCommands.Jobs.class, ApiCommands.Job.class,
        ApiCommands.Graph.class,
        ApiCommands.Submit.class, ApiCommands.Checkpoints.class, ApiCommands.Rescale.class,
        ApiCommands.Checkpoint.class, ApiCommands.Savepoint.class, ApiCommands.Stop.class,
        ApiCommands.Cancel.class},
    footer = "%nRun 'stratus COMMAND --help' for a command's options.")
public final class StratusCli implements Callable<Integer> {

  private static final String COMMON_POOL_PARALLELISM =
      "java.util.concurrent.ForkJoinPool.common.parallelism";

  @Spec
  CommandSpec spec;

  public static void main(String[] args) {
    // With two cores the common pool gets one thread, and then CompletableFuture's and
    // Hazelcast's asynchronous callbacks each start a thread of their own. Set before anything
    // touches the pool.
    if (System.getProperty(COMMON_POOL_PARALLELISM) == null) {
      System.setProperty(COMMON_POOL_PARALLELISM,
          String.valueOf(Math.max(2, Runtime.getRuntime().availableProcessors() - 1)));
    }
    System.exit(commandLine().execute(args));
  }

  /** The command line, configured: no colors, one-line usage errors, messages for failures. */
  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new StratusCli());
    cli.setColorScheme(CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF));
    cli.setParameterExceptionHandler((e, args) -> {
      CommandLine at = e.getCommandLine();
      at.getErr().println("stratus: " + e.getMessage() + " (see 'stratus "
          + (at.getParent() == null ? "" : at.getCommandName() + " ") + "--help')");
      return 2;
    });
    cli.setExecutionExceptionHandler((e, at, parsed) -> {
      if (e instanceof IllegalArgumentException) {
        at.getErr().println("stratus " + at.getCommandName() + ": " + e.getMessage());
        return 2;
      }
      throw e;
    });
    return cli;
  }

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getOut());
    return 2;
  }

  /** What a command that runs a whole cluster in this process needs (the demo). */
  abstract static class ClusterCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    ClusterOptions cluster;
    @Mixin
    StorageOptions storage;

    /**
     * Runs the cluster; usage errors name the option. {@code kafkaRate}: payments/s into an
     * embedded Kafka broker for the Kafka job; 0 for the card-profiles job.
     */
    int run(String command, long phaseSeconds, Duration reportEvery, long kafkaRate)
        throws InterruptedException {
      cluster.check(spec.commandLine());
      return new ClusterRun(new ClusterRun.Settings(command, cluster.users(kafkaRate > 0),
          cluster.workers, cluster.api.config(spec.commandLine()),
          cluster.dataPlane(spec.commandLine()),
          cluster.fresh, cluster.savepoint, phaseSeconds, cluster.duration, reportEvery,
          kafkaRate), StopSignal.install()).run(storage);
    }
  }

  @Command(name = "demo", mixinStandardHelpOptions = true,
      description = {
          "Runs the card-profiles job (a profile per card holder over a generated payment "
              + "stream) on an embedded cluster: S3Proxy on 127.0.0.1 with its data in "
              + "<data-dir>/s3, a coordinator, workers and the REST API. Rescales it live "
              + "2 -> 4 -> 2 through the REST API, then runs until Ctrl-C (or --duration) and "
              + "stops with a savepoint.",
          "A second run resumes from the newest checkpoint or savepoint (--fresh starts over). "
              + "While one runs, another on the same data refuses to start, naming it.",
          "With --kafka it runs the kafka-fraud job instead: an embedded Kafka broker (its log "
              + "in <data-dir>/kafka) fed with payments, the job reading them from topic "
              + "'payments' and writing fraud alerts to topic 'alerts', exactly once.", ""})
  static final class Demo extends ClusterCommand {
    @Option(names = "--phase-seconds", paramLabel = "N", defaultValue = "20",
        description = "seconds before the rescale to 4 and before the one back to 2; 0 for no "
            + "rescales (default: ${DEFAULT-VALUE})")
    long phaseSeconds;

    @Option(names = "--kafka", description = "run the kafka-fraud job against an embedded "
        + "Kafka broker instead of card-profiles")
    boolean kafka;

    @Option(names = "--kafka-rate", paramLabel = "N", defaultValue = "20000",
        description = "payments per second written to the embedded broker with --kafka "
            + "(default: ${DEFAULT-VALUE})")
    long kafkaRate;

    @Override
    public Integer call() throws InterruptedException {
      if (phaseSeconds < 0) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "--phase-seconds must be 0 or more, was " + phaseSeconds);
      }
      if (kafkaRate < 1) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "--kafka-rate must be 1 or more, was " + kafkaRate);
      }
      return run("demo", phaseSeconds, Duration.ofSeconds(2), kafka ? kafkaRate : 0);
    }
  }
}
