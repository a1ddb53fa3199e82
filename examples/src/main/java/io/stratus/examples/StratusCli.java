package io.stratus.examples;

import java.util.Arrays;
import java.util.List;

/** The {@code stratus} command: dispatches to a subcommand. */
public final class StratusCli {

  private static final String USAGE = """
      Usage: stratus <command> [options]

      Commands:
        demo      write keys to an LSM store in S3 (an embedded S3 server by default),
                  checkpoint, reopen half of the key groups from the checkpoint, read back
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
        case "demo" -> StoreDemo.run(rest);
        default -> throw new IllegalArgumentException("unknown command '" + args[0]
            + "'; commands: demo (see --help)");
      };
    } catch (IllegalArgumentException e) {
      System.err.println("stratus: " + e.getMessage());
      status = 2;
    }
    System.exit(status);
  }
}
