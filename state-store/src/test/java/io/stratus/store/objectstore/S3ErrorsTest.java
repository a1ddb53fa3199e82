package io.stratus.store.objectstore;

import static io.stratus.store.objectstore.Await.failure;
import static io.stratus.store.objectstore.Await.join;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.s3.EmbeddedS3Server;
import io.stratus.store.TestObjectStores;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Misconfiguration must surface as the specific {@link ObjectStoreException} subclass with a
 * message a user can act on, and never leak the secret key. Runs against S3Proxy on loopback.
 */
class S3ErrorsTest {

  private static final RetryPolicy FEW_RETRIES =
      new RetryPolicy(3, Duration.ofMillis(10), Duration.ofMillis(50));

  private static EmbeddedS3Server s3;
  private static String bucket;
  /** S3 clients take ~2 s each to close (Netty's quiet period): closed together at the end. */
  private static final List<S3ObjectStore> STORES = new ArrayList<>();

  @BeforeAll
  static void startS3() {
    s3 = TestObjectStores.startS3();
    bucket = TestObjectStores.freshBucket(s3);
    S3ObjectStore store = store(TestObjectStores.s3Config(s3, bucket));
    join(store.put("object", new byte[] {1, 2, 3}));
  }

  @AfterAll
  static void stopS3() {
    STORES.parallelStream().forEach(S3ObjectStore::close);
    s3.close();
  }

  private static S3ObjectStore store(S3Config config) {
    S3ObjectStore store = new S3ObjectStore(config.withRetry(FEW_RETRIES));
    synchronized (STORES) {
      STORES.add(store);
    }
    return store;
  }

  /** Every operation that addresses the bucket, each expected to fail. */
  private static List<CompletableFuture<?>> everyOperation(S3ObjectStore store) {
    return List.of(store.get("object"), store.getRange("object", 0, 2),
        store.put("new", new byte[1]), store.putIfAbsent("new", new byte[1]), store.list(""),
        store.delete(List.of("object")), store.checkAccess());
  }

  @Test
  void missingBucketIsReportedAsSuchByEveryOperation() {
    S3ObjectStore store = store(TestObjectStores.s3Config(s3, "no-such-bucket-here"));
    for (CompletableFuture<?> operation : everyOperation(store)) {
      BucketNotFoundException e = failure(BucketNotFoundException.class, operation);
      assertTrue(e.getMessage().contains("'no-such-bucket-here'"), e.getMessage());
      assertTrue(e.getMessage().contains(s3.endpoint().toString()), e.getMessage());
    }
  }

  @Test
  void wrongSecretIsReportedAsRejectedCredentialsWithoutLeakingEitherSecret() {
    String wrongSecret = "wrong-" + s3.secretKey().substring(6) + "x";
    S3ObjectStore store = store(
        TestObjectStores.s3Config(s3, bucket).withCredentials(s3.accessKey(), wrongSecret));
    for (CompletableFuture<?> operation : everyOperation(store)) {
      AccessDeniedException e = failure(AccessDeniedException.class, operation);
      assertTrue(e.getMessage().contains("rejected the credentials"), e.getMessage());
      assertTrue(e.getMessage().contains(s3.accessKey()), "names the key id: " + e.getMessage());
      assertNoSecret(e, s3.secretKey(), wrongSecret);
    }
    // A HEAD response has no body, so the cause cannot be told apart from a policy denial; the
    // message must still point at the credentials and not print a null error code.
    AccessDeniedException head = failure(AccessDeniedException.class, store.head("object"));
    assertTrue(head.getMessage().contains("credentials"), head.getMessage());
    assertFalse(head.getMessage().contains("null"), head.getMessage());
    assertNoSecret(head, s3.secretKey(), wrongSecret);
  }

  @Test
  void unknownAccessKeyIsReportedAsRejectedCredentials() {
    S3ObjectStore store = store(TestObjectStores.s3Config(s3, bucket)
        .withCredentials("stratus-unknown", s3.secretKey()));
    for (CompletableFuture<?> operation : List.of(store.get("object"), store.checkAccess())) {
      AccessDeniedException e = failure(AccessDeniedException.class, operation);
      assertTrue(e.getMessage().contains("rejected the credentials"), e.getMessage());
      assertTrue(e.getMessage().contains("stratus-unknown"), e.getMessage());
      assertNoSecret(e, s3.secretKey());
    }
  }

  private static void assertNoSecret(Throwable e, String... secrets) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      for (String secret : secrets) {
        assertFalse(String.valueOf(t).contains(secret), "secret leaked in " + t);
      }
    }
  }

  @Test
  void closedPortIsReportedAsUnreachableEndpointAfterTheRetries() throws IOException {
    URI endpoint = closedPort();
    S3ObjectStore store = store(TestObjectStores.s3Config(s3, bucket)
        .withEndpoint(endpoint, true)
        .withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(2)));
    for (CompletableFuture<?> operation : List.of(store.get("object"),
        store.put("new", new byte[1]), store.list(""))) {
      EndpointUnreachableException e = failure(EndpointUnreachableException.class, operation);
      assertTrue(e.getMessage().contains(endpoint.toString()), e.getMessage());
      assertTrue(e.getMessage().contains("after 3 attempts"), e.getMessage());
    }
    // checkAccess is for start-up: it fails at once, with the same error.
    EndpointUnreachableException e =
        failure(EndpointUnreachableException.class, store.checkAccess());
    assertTrue(e.getMessage().contains(endpoint.toString()), e.getMessage());
    assertFalse(e.getMessage().contains("attempts"), e.getMessage());
  }

  /** A loopback port nothing listens on: connections to it are refused at once. */
  private static URI closedPort() throws IOException {
    int port;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    return URI.create("http://127.0.0.1:" + port);
  }

  @Test
  void configToStringHidesTheSecret() {
    String secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    S3Config config = S3Config.forBucket("my-bucket")
        .withEndpoint(URI.create("http://127.0.0.1:9000"), true)
        .withCredentials("AKIAEXAMPLE", secret)
        .withPrefix("jobs/a");
    String text = config.toString();
    assertFalse(text.contains(secret), text);
    assertFalse(text.contains("wJalr"), text);
    assertTrue(text.contains("AKIAEXAMPLE") && text.contains("my-bucket"), text);
    assertEquals("s3://my-bucket/jobs/a/", config.location());
    // The record's own members still carry it, for the client to sign with.
    assertEquals(secret, config.secretAccessKey());
  }

  @Test
  void configRejectsHalfCredentialsAndBadValuesWithoutEchoingTheSecret() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> S3Config.forBucket("my-bucket").withCredentials(null, "s3cr3t-value"));
    assertFalse(e.getMessage().contains("s3cr3t-value"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> S3Config.forBucket("ab"));
    assertThrows(IllegalArgumentException.class,
        () -> S3Config.forBucket("my-bucket").withEndpoint(URI.create("ftp://x"), true));
    assertThrows(IllegalArgumentException.class,
        () -> S3Config.forBucket("my-bucket").withMaxConcurrency(0));
  }

  @Test
  void transientFailuresAreRetryableAndFinalOnesAreNot() {
    for (int status : new int[] {500, 502, 503, 504, 429}) {
      assertTrue(S3ObjectStore.isRetryable(s3Error(status, null)), "HTTP " + status);
    }
    for (int status : new int[] {400, 403, 404, 412, 416}) {
      assertFalse(S3ObjectStore.isRetryable(s3Error(status, null)), "HTTP " + status);
    }
    assertTrue(S3ObjectStore.isRetryable(s3Error(400, "SlowDown")));
    assertTrue(S3ObjectStore.isRetryable(s3Error(400, "RequestTimeout")));
    assertFalse(S3ObjectStore.isRetryable(s3Error(403, "SignatureDoesNotMatch")));
    assertFalse(S3ObjectStore.isRetryable(s3Error(404, "NoSuchKey")));

    assertTrue(S3ObjectStore.isRetryable(SdkClientException.builder()
        .message("Unable to execute HTTP request").cause(new IOException("reset")).build()));
    assertTrue(S3ObjectStore.isRetryable(SdkClientException.builder()
        .message("Unable to execute HTTP request")
        .cause(new ConnectException("Connection refused")).build()));
    assertFalse(S3ObjectStore.isRetryable(SdkClientException.builder()
        .message("Unable to marshall request").cause(new IllegalStateException("bug")).build()));
    assertTrue(S3ObjectStore.isRetryable(
        ApiCallAttemptTimeoutException.builder().message("attempt timed out").build()));
    assertTrue(S3ObjectStore.isRetryable(new S3ObjectStore.ShortReadException("cut short")));
    assertFalse(S3ObjectStore.isRetryable(new IllegalArgumentException("bad range")));
    assertFalse(S3ObjectStore.isRetryable(new ObjectStoreException("final")));
  }

  private static S3Exception s3Error(int status, String code) {
    S3Exception.Builder b = S3Exception.builder().statusCode(status).message("HTTP " + status);
    if (code != null) {
      b.awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage(code).build());
    }
    return (S3Exception) b.build();
  }

  @Test
  void contentRangeTotalSizeIsParsed() {
    assertEquals(100, S3ObjectStore.totalSize("bytes 97-99/100"));
    assertEquals(-1, S3ObjectStore.totalSize("bytes 0-9/*"));
    assertEquals(-1, S3ObjectStore.totalSize(null));
    assertEquals(-1, S3ObjectStore.totalSize("garbage"));
  }
}
