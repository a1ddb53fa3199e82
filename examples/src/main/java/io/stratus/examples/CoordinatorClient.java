package io.stratus.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;

/**
 * A coordinator's REST API as the command line uses it: JSON in and out, and failures as
 * {@link ApiException}s whose message a person can act on (no coordinator there, the API's own
 * error, a timeout), never the HTTP client's internals.
 */
final class CoordinatorClient {

  static final String DEFAULT_API = "http://127.0.0.1:8081";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final URI api;
  private final String token;
  private final HttpClient http = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(5)).build();

  /**
   * A client of the API at {@code api}.
   *
   * @param token the bearer token, or null or blank for none
   * @throws IllegalArgumentException if {@code api} is not an http(s) URL
   */
  CoordinatorClient(String api, String token) {
    String trimmed = api.replaceAll("/+$", "");
    try {
      this.api = URI.create(trimmed);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--api must be a URL like " + DEFAULT_API + ", was '"
          + api + "'");
    }
    if (this.api.getHost() == null || !("http".equals(this.api.getScheme())
        || "https".equals(this.api.getScheme()))) {
      throw new IllegalArgumentException("--api must be a URL like " + DEFAULT_API + ", was '"
          + api + "'");
    }
    this.token = token == null || token.isBlank() ? null : token;
  }

  /** A failed call, with a message for people. */
  static final class ApiException extends Exception {
    private final int status;

    ApiException(String message, int status) {
      super(message);
      this.status = status;
    }

    /** The HTTP status, or 0 when no answer came. */
    int status() {
      return status;
    }
  }

  String api() {
    return api.toString();
  }

  JsonNode get(String path) throws ApiException, InterruptedException {
    return call("GET", path, null, Duration.ofSeconds(30));
  }

  JsonNode post(String path, Object body, Duration timeout)
      throws ApiException, InterruptedException {
    return call("POST", path, body, timeout);
  }

  JsonNode delete(String path) throws ApiException, InterruptedException {
    return call("DELETE", path, null, Duration.ofMinutes(2));
  }

  private JsonNode call(String method, String path, Object body, Duration timeout)
      throws ApiException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(api.resolve(path)).timeout(timeout);
    try {
      request.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
          : HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode a request body", e);
    }
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    HttpResponse<String> response;
    try {
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (HttpConnectTimeoutException | ConnectException e) {
      throw new ApiException("no coordinator at " + api + " (start one with 'stratus demo' or "
          + "'stratus coordinator', or pass --api)", 0);
    } catch (HttpTimeoutException e) {
      throw new ApiException(method + " " + api.resolve(path) + ": no answer within "
          + Units.millis(timeout.toMillis()), 0);
    } catch (IOException e) {
      // e.g. "header parser received no bytes": something accepted and closed the connection.
      throw new ApiException("no coordinator at " + api + ": the connection closed without an "
          + "answer (a coordinator shutting down, or another program on that port)", 0);
    }
    JsonNode json;
    try {
      json = response.body().isBlank() ? JSON.nullNode() : JSON.readTree(response.body());
    } catch (IOException e) {
      throw new ApiException(api + " answered " + response.statusCode() + " with something "
          + "that is not JSON: is it a Stratus coordinator?", response.statusCode());
    }
    if (response.statusCode() >= 400) {
      String message = json.path("error").asText(response.body());
      throw new ApiException(message + " (HTTP " + response.statusCode() + ")",
          response.statusCode());
    }
    return json;
  }
}
