package io.stratus.examples;

import io.stratus.network.DataPlaneConfig;
import io.stratus.scheduler.cluster.ClusterConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
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

  @Option(names = "--event-bus-port", paramLabel = "PORT", defaultValue = "0",
      description = "port of this process's event bus server (control messages between "
          + "coordinator and workers), for firewall rules; 0 for any free one "
          + "(default: ${DEFAULT-VALUE})")
  int eventBusPort;

  @Option(names = "--tls-cert", paramLabel = "PEM",
      description = "this process's certificate chain: with --tls-key and --tls-trust, the "
          + "event bus and the data plane run over TLS, both ends presenting a certificate")
  Path tlsCert;

  @Option(names = "--tls-key", paramLabel = "PEM", description = "its private key (PKCS#8)")
  Path tlsKey;

  @Option(names = "--tls-trust", paramLabel = "PEM",
      description = "the certificates of the members it accepts")
  Path tlsTrust;

  /** The cluster configuration; a bad value is a usage error naming it. */
  ClusterConfig config(CommandLine commandLine, int port, int portRange, List<String> members) {
    try {
      return new ClusterConfig(bind, port, portRange, eventBusPort, members,
          secret == null || secret.isEmpty() ? null : secret, memberTimeout, tls(commandLine));
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(commandLine, e.getMessage());
    }
  }

  /** The TLS files, all three or none; one or two alone is a usage error naming the others. */
  DataPlaneConfig.Tls tls(CommandLine commandLine) {
    if (tlsCert == null && tlsKey == null && tlsTrust == null) {
      return null;
    }
    if (tlsCert == null || tlsKey == null || tlsTrust == null) {
      throw new CommandLine.ParameterException(commandLine, "TLS needs --tls-cert, --tls-key "
          + "and --tls-trust together; missing: " + String.join(", ", Stream.of(
              tlsCert == null ? "--tls-cert" : null, tlsKey == null ? "--tls-key" : null,
              tlsTrust == null ? "--tls-trust" : null).filter(o -> o != null).toList()));
    }
    try {
      return new DataPlaneConfig.Tls(tlsCert, tlsKey, tlsTrust);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(commandLine, e.getMessage());
    }
  }
}
