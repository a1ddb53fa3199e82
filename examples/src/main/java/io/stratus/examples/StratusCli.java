package io.stratus.examples;

import java.util.Arrays;
import java.util.List;

/** The {@code stratus} command: dispatches to a subcommand. */
public final class StratusCli {

  private static final String USAGE = """
      Usage: stratus <command> [options]

      Commands:
        demo        run a stateful job on an embedded cluster (coordinator, workers, REST
                    API, S3Proxy) and rescale it live 2 -> 4 -> 2 through the REST API
        store-demo  write keys to an LSM store in S3, checkpoint, reopen half of the key
                    groups from the checkpoint (pointers only), read back
        coordinator run a coordinator with embedded workers, the REST API and the job,
                    until interrupted
        worker      (not available yet: workers run inside the coordinator process)
      Commands against a running coordinator's REST API:
      """ + ApiCommands.USAGE + """
      Run 'stratus <command> --help' for the options of a command.
      """;

  private StratusCli() {}

  public static void main(String[] args) {
    if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
      System.out.print(USAGE);
      return;
    }
    List<String> rest = Arrays.asList(args).subList(1, args.length);
    int status;
    try {
      status = switch (args[0]) {
        case "demo" -> JobDemo.run(rest);
        case "store-demo" -> StoreDemo.run(rest);
        case "coordinator" -> JobDemo.coordinator(rest);
        case "worker" -> {
          System.err.println("stratus worker: a worker in its own process needs a clustered "
              + "event bus, which is not built yet; 'stratus coordinator --workers N' runs N "
              + "workers in the coordinator's process");
          yield 2;
        }
        case "jobs", "job", "rescale", "checkpoint", "savepoint", "stop", "cancel" ->
            ApiCommands.run(args[0], rest);
        default -> throw new IllegalArgumentException("unknown command '" + args[0]
            + "' (see --help)");
      };
    } catch (IllegalArgumentException e) {
      System.err.println("stratus: " + e.getMessage());
      status = 2;
    }
    System.exit(status);
  }
}
