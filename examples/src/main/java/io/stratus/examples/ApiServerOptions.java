package io.stratus.examples;

import io.stratus.rescale.RestConfig;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** Where a command that serves the REST API listens, and its token (demo, coordinator). */
final class ApiServerOptions {

  @Option(names = "--api-port", paramLabel = "N", defaultValue = "8081",
      description = "REST API port, 0 for any free one (default: ${DEFAULT-VALUE})")
  int apiPort;

  @Option(names = "--api-host", paramLabel = "HOST", defaultValue = "127.0.0.1",
      description = "REST API interface; any other than loopback needs a token "
          + "(default: ${DEFAULT-VALUE})")
  String apiHost;

  @Option(names = "--api-token", paramLabel = "T", defaultValue = "${env:STRATUS_API_TOKEN}",
      description = "bearer token the API requires (default: $STRATUS_API_TOKEN)")
  String apiToken;

  /** The API's configuration; a bad host, port or a missing token is a usage error. */
  RestConfig config(CommandLine commandLine) {
    try {
      return new RestConfig(apiHost, apiPort, apiToken);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(commandLine, e.getMessage());
    }
  }
}
