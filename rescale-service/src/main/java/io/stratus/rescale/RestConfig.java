package io.stratus.rescale;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Where the REST API listens and how it is guarded.
 *
 * @param host        interface to bind; {@code 127.0.0.1} by default
 * @param port        port, 0 for any free one
 * @param bearerToken token every request must present as {@code Authorization: Bearer ...};
 *                    null for none, which is allowed only on a loopback interface
 */
public record RestConfig(String host, int port, String bearerToken) {

  /** Loopback on port 8081, no token. */
  public static RestConfig defaults() {
    return new RestConfig("127.0.0.1", 8081, null);
  }

  public RestConfig {
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException("the API's host is empty");
    }
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("the API's port " + port + " is outside 0..65535");
    }
    if (bearerToken != null && bearerToken.isBlank()) {
      bearerToken = null;
    }
    if (bearerToken == null && !isLoopback(host)) {
      throw new IllegalArgumentException("the API binds to " + host + ", which is not a "
          + "loopback interface: set a bearer token (--api-token or STRATUS_API_TOKEN)");
    }
  }

  public RestConfig withPort(int value) {
    return new RestConfig(host, value, bearerToken);
  }

  public RestConfig withHost(String value) {
    return new RestConfig(value, port, bearerToken);
  }

  public RestConfig withBearerToken(String value) {
    return new RestConfig(host, port, value);
  }

  /** Never prints the token. */
  @Override
  public String toString() {
    return "RestConfig[host=" + host + ", port=" + port + ", token="
        + (bearerToken == null ? "none" : "set") + "]";
  }

  private static boolean isLoopback(String host) {
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
