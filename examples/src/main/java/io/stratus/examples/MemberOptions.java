package io.stratus.examples;

import io.stratus.scheduler.cluster.ClusterConfig;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** How a coordinator or worker process joins the cluster (see {@link ClusterConfig}). */
final class MemberOptions {

  @Option(names = "--bind", paramLabel = "HOST", defaultValue = "127.0.0.1",
      description = "address this process listens on and is reached at (cluster membership, "
          + "event bus, data server); any other than loopback needs --cluster-secret "
          + "(default: ${DEFAULT-VALUE})")
  String bind;

  @Option(names = "--cluster-secret", paramLabel = "S",
      defaultValue = "${env:STRATUS_CLUSTER_SECRET}",
      description = "secret every member of the cluster shares, 16 characters or more; members "
          + "with another secret cannot join (default: $STRATUS_CLUSTER_SECRET, else none)")
  String secret;

  @Option(names = "--member-timeout", paramLabel = "TIME", defaultValue = "15s",
      converter = ClusterOptions.DurationConverter.class,
      description = "how long a member that stopped answering stays in the cluster; a killed "
          + "process is noticed at once by its refused connections, so this only covers hosts "
          + "that vanish (default: ${DEFAULT-VALUE})")
  Duration memberTimeout;

  /** The cluster configuration; a bad value is a usage error naming it. */
  ClusterConfig config(CommandLine commandLine, int port, int portRange, List<String> members) {
    try {
      return new ClusterConfig(bind, port, portRange, 0, members,
          secret == null || secret.isEmpty() ? null : secret, memberTimeout);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(commandLine, e.getMessage());
    }
  }
}
