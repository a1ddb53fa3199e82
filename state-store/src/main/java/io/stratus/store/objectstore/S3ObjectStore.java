package io.stratus.store.objectstore;

import java.io.IOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import io.stratus.cache.NamedDaemonThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * {@link ObjectStore} on S3 or any S3-compatible server through the AWS SDK v2 async client
 * (Netty). Requests in flight are capped by {@link S3Config#maxConcurrency()} (more wait in a
 * queue, not in the connection pool); transient failures (HTTP 500/502/503/504/429, SlowDown,
 * timeouts, reset connections, bodies cut short) are retried by {@link RetryPolicy} with full
 * jitter. The SDK's own retries are off so that one policy, ours, decides.
 *
 * <p>Conditional writes use {@code If-None-Match: *} (AWS S3 since 2024, MinIO, S3Proxy).
 */
public final class S3ObjectStore implements ObjectStore {

  private static final Logger LOG = LoggerFactory.getLogger(S3ObjectStore.class);
  private static final int DELETE_BATCH = 1000;

  private final S3Config config;
  private final S3AsyncClient client;
  private final AsyncPermits permits;
  private final ScheduledExecutorService retryTimer;
  /** Its own client for {@link #forControlPlane()}, made on first use. */
  private S3ObjectStore controlPlane;
  private boolean closed;
  /** {@link #until}'s deadline on {@link System#nanoTime()}'s clock; none for the store. */
  private final long deadlineNanos;
  /** The store this is an {@link #until} or {@link #urgent} view of, or null. */
  private final S3ObjectStore bounded;
  /** Whether requests go ahead of the non-urgent ones waiting for a permit. */
  private final boolean urgent;

  public S3ObjectStore(S3Config config) {
    this.config = config;
    this.deadlineNanos = Long.MAX_VALUE;
    this.bounded = null;
    this.urgent = false;
    AwsCredentialsProvider credentials = config.accessKeyId() == null
        ? DefaultCredentialsProvider.builder().build()
        : StaticCredentialsProvider.create(
            AwsBasicCredentials.create(config.accessKeyId(), config.secretAccessKey()));
    var builder = S3AsyncClient.builder()
        .httpClientBuilder(NettyNioAsyncHttpClient.builder()
            .maxConcurrency(config.maxConcurrency())
            .connectionTimeout(config.connectTimeout())
            .connectionAcquisitionTimeout(Duration.ofMinutes(2)))
        .region(Region.of(config.region()))
        .credentialsProvider(credentials)
        .forcePathStyle(config.pathStyle())
        // Our blocks carry CRC32C; SDK payload checksums break some S3-compatible servers.
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .overrideConfiguration(o -> o
            .retryStrategy(AwsRetryStrategy.doNotRetry())
            .apiCallAttemptTimeout(config.attemptTimeout()));
    if (config.endpoint() != null) {
      builder.endpointOverride(config.endpoint());
    }
    this.client = builder.build();
    this.permits = new AsyncPermits(config.maxConcurrency());
    this.retryTimer = Executors.newSingleThreadScheduledExecutor(
        new NamedDaemonThreadFactory("stratus-s3-retry"));
    LOG.info("S3 object store at {}", config);
  }

  /** A view of {@code store} whose requests end by {@code deadlineNanos}. */
  private S3ObjectStore(S3ObjectStore store, long deadlineNanos, boolean urgent) {
    this.config = store.config;
    this.client = store.client;
    this.permits = store.permits;
    this.retryTimer = store.retryTimer;
    this.deadlineNanos = deadlineNanos;
    this.bounded = store;
    this.urgent = urgent;
  }

  /**
   * No request of the view starts after {@code deadlineNanos}, and one in flight is aborted
   * at it (the SDK's API call timeout): a PUT whose body S3 has not received in full is not
   * stored.
   */
  @Override
  public ObjectStore until(long deadlineNanos) {
    return new S3ObjectStore(bounded != null ? bounded : this,
        Math.min(deadlineNanos, this.deadlineNanos), urgent);
  }

  @Override
  public ObjectStore urgent() {
    return new S3ObjectStore(bounded != null ? bounded : this, deadlineNanos, true);
  }

  /** The rest of the deadline as the request's API call timeout (none for the store). */
  private void untilDeadline(AwsRequestOverrideConfiguration.Builder request) {
    if (deadlineNanos != Long.MAX_VALUE) {
      request.apiCallTimeout(Duration.ofNanos(Math.max(1, deadlineNanos - System.nanoTime())));
    }
  }

  /** The configuration, secret included; print it only through its {@code toString}. */
  public S3Config config() {
    return config;
  }

  @Override
  public String location() {
    return config.location() + " at " + config.endpointDescription();
  }

  /**
   * Confirms that the endpoint answers and the bucket exists and is readable, with the specific
   * error otherwise; meant for start-up, so it does not retry.
   */
  public CompletableFuture<Void> checkAccess() {
    return checkAccess(true);
  }

  /**
   * One retry, and only for a pooled connection the server had closed (S3Proxy closes one after
   * answering an error without reading the request's body): an endpoint that does not answer
   * must fail at once.
   */
  private CompletableFuture<Void> checkAccess(boolean mayRetry) {
    return client.listObjectsV2(r -> r.bucket(config.bucket()).prefix(config.prefix()).maxKeys(1))
        .handle((response, error) -> {
          if (error == null) {
            return CompletableFuture.<Void>completedFuture(null);
          }
          Throwable cause = unwrap(error);
          if (mayRetry && isRetryable(cause) && !isUnreachable(cause)
              && !(cause instanceof S3Exception)) {
            return checkAccess(false);
          }
          throw translate("list", config.prefix(), error);
        }).thenCompose(f -> f);
  }

  @Override
  public CompletableFuture<byte[]> get(String key) {
    return withRetries("GET", key, () -> client.getObject(
            r -> r.bucket(config.bucket()).key(fullKey(key)),
            AsyncResponseTransformer.toBytes())
        .thenApply(bytes -> bytes.asByteArrayUnsafe()));
  }

  @Override
  public CompletableFuture<byte[]> getRange(String key, long offset, int length) {
    if (offset < 0 || length < 0) {
      return CompletableFuture.failedFuture(new IllegalArgumentException(
          "invalid range offset=" + offset + " length=" + length + " for " + key));
    }
    if (length == 0) {
      return CompletableFuture.completedFuture(new byte[0]);
    }
    String range = "bytes=" + offset + "-" + (offset + length - 1);
    return withRetries("GET " + range + " of", key, () -> client.getObject(
            r -> r.bucket(config.bucket()).key(fullKey(key)).range(range),
            AsyncResponseTransformer.toBytes())
        .thenApply(bytes -> {
          byte[] data = bytes.asByteArrayUnsafe();
          if (data.length != length) {
            // A range past the end is answered with what exists: final, not a short read.
            long objectSize = totalSize(bytes.response().contentRange());
            if (objectSize >= 0 && offset + length > objectSize) {
              throw new ObjectStoreException("GET " + range + " of " + key + " in " + location()
                  + ": the range is beyond the end of the object, which has only " + objectSize
                  + " bytes");
            }
            throw new ShortReadException("got " + data.length + " of " + length + " bytes ("
                + range + ") of " + key);
          }
          return data;
        }));
  }

  @Override
  public CompletableFuture<Void> put(String key, byte[] data) {
    return withRetries("PUT", key, () -> client.putObject(
            r -> r.bucket(config.bucket()).key(fullKey(key)).contentLength((long) data.length)
                .overrideConfiguration(this::untilDeadline),
            AsyncRequestBody.fromBytesUnsafe(data))
        .thenApply(response -> null));
  }

  @Override
  public CompletableFuture<Boolean> putIfAbsent(String key, byte[] data) {
    return withRetries("conditional PUT", key, () -> client.putObject(
            r -> r.bucket(config.bucket()).key(fullKey(key)).contentLength((long) data.length)
                .ifNoneMatch("*").overrideConfiguration(this::untilDeadline),
            AsyncRequestBody.fromBytesUnsafe(data))
        .handle((response, error) -> {
          if (error == null) {
            return true;
          }
          if (unwrap(error) instanceof S3Exception s3 && s3.statusCode() == 412) {
            return false;
          }
          throw propagate(error);
        }));
  }

  @Override
  public CompletableFuture<Optional<VersionedObject>> getVersioned(String key) {
    return withRetries("GET", key, () -> client.getObject(
            r -> r.bucket(config.bucket()).key(fullKey(key)),
            AsyncResponseTransformer.toBytes())
        .handle((bytes, error) -> {
          if (error == null) {
            return Optional.of(new VersionedObject(bytes.asByteArrayUnsafe(),
                bytes.response().eTag()));
          }
          if (isMissingObject(unwrap(error))) {
            return Optional.<VersionedObject>empty();
          }
          throw propagate(error);
        }));
  }

  @Override
  public CompletableFuture<Optional<String>> putIfVersion(String key, byte[] data,
      String expectedTag) {
    CompletableFuture<Optional<String>> written = withRetries("conditional PUT (If-Match)", key,
        () -> client.putObject(
                r -> r.bucket(config.bucket()).key(fullKey(key))
                    .contentLength((long) data.length).ifMatch(expectedTag)
                    .overrideConfiguration(this::untilDeadline),
                AsyncRequestBody.fromBytesUnsafe(data))
            .handle((response, error) -> {
              if (error == null) {
                return Optional.of(response.eTag());
              }
              Throwable cause = unwrap(error);
              if (cause instanceof S3Exception s3 && s3.statusCode() == 412
                  || isMissingObject(cause)) {
                return Optional.<String>empty();
              }
              throw propagate(error);
            }));
    // A retry after a lost response meets its own write: that is a success.
    return written.thenCompose(tag -> tag.isPresent() ? CompletableFuture.completedFuture(tag)
        : getVersioned(key).thenApply(now -> now
            .filter(v -> Arrays.equals(v.data(), data))
            .map(VersionedObject::versionTag)));
  }

  @Override
  public CompletableFuture<Optional<ObjectInfo>> head(String key) {
    return withRetries("HEAD", key, () -> client.headObject(
            r -> r.bucket(config.bucket()).key(fullKey(key)))
        .handle((response, error) -> {
          if (error == null) {
            return Optional.of(new ObjectInfo(key, response.contentLength(),
                response.lastModified()));
          }
          if (isMissingObject(unwrap(error))) {
            return Optional.empty();
          }
          throw propagate(error);
        }));
  }

  @Override
  public CompletableFuture<List<ObjectInfo>> list(String prefix) {
    List<ObjectInfo> out = new ArrayList<>();
    return listPage(prefix, null, out).thenApply(v -> out);
  }

  private CompletableFuture<Void> listPage(String prefix, String token, List<ObjectInfo> out) {
    ListObjectsV2Request.Builder request = ListObjectsV2Request.builder()
        .bucket(config.bucket()).prefix(fullKey(prefix));
    if (token != null) {
      request.continuationToken(token);
    }
    return withRetries("LIST", prefix, () -> client.listObjectsV2(request.build()))
        .thenCompose((ListObjectsV2Response page) -> {
          for (var object : page.contents()) {
            out.add(new ObjectInfo(object.key().substring(config.prefix().length()),
                object.size(), object.lastModified()));
          }
          if (Boolean.TRUE.equals(page.isTruncated()) && page.nextContinuationToken() != null) {
            return listPage(prefix, page.nextContinuationToken(), out);
          }
          return CompletableFuture.completedFuture(null);
        });
  }

  @Override
  public CompletableFuture<Void> delete(Collection<String> keys) {
    List<String> all = List.copyOf(keys);
    List<CompletableFuture<Void>> batches = new ArrayList<>();
    for (int from = 0; from < all.size(); from += DELETE_BATCH) {
      List<String> batch = all.subList(from, Math.min(all.size(), from + DELETE_BATCH));
      List<ObjectIdentifier> ids = batch.stream()
          .map(k -> ObjectIdentifier.builder().key(fullKey(k)).build()).toList();
      String first = batch.get(0);
      batches.add(withRetries("DELETE (batch of " + batch.size() + " from)", first,
          () -> client.deleteObjects(r -> r.bucket(config.bucket())
                  .delete(Delete.builder().objects(ids).quiet(true).build())
                  .overrideConfiguration(this::untilDeadline))
              .thenApply((DeleteObjectsResponse response) -> {
                if (response.hasErrors() && !response.errors().isEmpty()) {
                  var e = response.errors().get(0);
                  if ("NoSuchBucket".equals(e.code())) {
                    throw new BucketNotFoundException("bucket '" + config.bucket()
                        + "' does not exist at " + config.endpointDescription() + " (DELETE "
                        + e.key() + ")");
                  }
                  throw new ObjectStoreException("DELETE of " + response.errors().size()
                      + " objects in " + location() + " failed, first " + e.key() + ": "
                      + e.code() + " " + e.message());
                }
                return null;
              })));
    }
    return CompletableFuture.allOf(batches.toArray(CompletableFuture[]::new));
  }

  /** A second client on the same bucket and prefix, with its own few connections. */
  @Override
  public synchronized ObjectStore forControlPlane() {
    if (bounded != null) {
      return bounded.forControlPlane().until(deadlineNanos);
    }
    if (closed) {
      throw new IllegalStateException("the S3 object store at " + location() + " is closed");
    }
    if (controlPlane == null) {
      controlPlane = new S3ObjectStore(config.withMaxConcurrency(4));
    }
    return controlPlane;
  }

  @Override
  public void close() {
    if (bounded != null) {
      // A view: its store is closed by its owner.
      return;
    }
    CompletableFuture<Void> second;
    synchronized (this) {
      closed = true;
      // Each client takes about 2 s to close (Netty's quiet period): both at once.
      second = controlPlane == null ? CompletableFuture.completedFuture(null)
          : CompletableFuture.runAsync(controlPlane::close);
    }
    client.close();
    retryTimer.shutdownNow();
    second.join();
  }

  private String fullKey(String key) {
    return config.prefix() + key;
  }

  private <T> CompletableFuture<T> withRetries(String operation, String key,
      Supplier<CompletableFuture<T>> attempt) {
    CompletableFuture<T> result = new CompletableFuture<>();
    runAttempt(operation, key, attempt, 1, result);
    return result;
  }

  private <T> void runAttempt(String operation, String key, Supplier<CompletableFuture<T>> attempt,
      int number, CompletableFuture<T> result) {
    if (System.nanoTime() >= deadlineNanos) {
      result.completeExceptionally(
          DeadlineObjectStore.passed(operation, key, location()));
      return;
    }
    permits.run(attempt, urgent).whenComplete((value, error) -> {
      if (error == null) {
        result.complete(value);
        return;
      }
      Throwable cause = unwrap(error);
      if (isRetryable(cause) && System.nanoTime() >= deadlineNanos) {
        ObjectStoreException failure = translate(operation, key, cause);
        result.completeExceptionally(new ObjectStoreException(failure.getMessage()
            + "; not retried: its deadline passed", failure.getCause()));
        return;
      }
      if (isRetryable(cause) && number < config.retry().maxAttempts()) {
        long delay = config.retry().backoffMillis(number + 1);
        LOG.debug("{} {} attempt {} failed ({}); retrying in {} ms", operation, key, number,
            describe(cause), delay);
        try {
          retryTimer.schedule(() -> runAttempt(operation, key, attempt, number + 1, result),
              delay, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
          result.completeExceptionally(translate(operation, key, cause));
        }
        return;
      }
      ObjectStoreException failure = translate(operation, key, cause);
      if (isRetryable(cause) && number > 1) {
        failure = withAttempts(failure, number);
      }
      result.completeExceptionally(failure);
    });
  }

  private static ObjectStoreException withAttempts(ObjectStoreException e, int attempts) {
    String message = e.getMessage() + " (after " + attempts + " attempts)";
    if (e instanceof EndpointUnreachableException) {
      return new EndpointUnreachableException(message, e.getCause());
    }
    return new ObjectStoreException(message, e.getCause());
  }

  static boolean isRetryable(Throwable cause) {
    if (cause instanceof ShortReadException) {
      return true;
    }
    if (isMissingCredentials(cause)) {
      return false;
    }
    if (cause instanceof S3Exception s3) {
      int status = s3.statusCode();
      String code = s3.awsErrorDetails() == null ? null : s3.awsErrorDetails().errorCode();
      return status == 500 || status == 502 || status == 503 || status == 504 || status == 429
          || "SlowDown".equals(code) || "InternalError".equals(code)
          || "RequestTimeout".equals(code) || "ConditionalRequestConflict".equals(code);
    }
    if (cause instanceof ApiCallAttemptTimeoutException || cause instanceof ApiCallTimeoutException) {
      return true;
    }
    if (cause instanceof SdkClientException) {
      for (Throwable c = cause; c != null; c = c.getCause()) {
        if (c instanceof IOException || c instanceof TimeoutException) {
          return true;
        }
      }
      String message = String.valueOf(cause.getMessage()).toLowerCase();
      return message.contains("timed out") || message.contains("connection")
          || message.contains("closed");
    }
    return cause instanceof IOException;
  }

  private ObjectStoreException translate(String operation, String key, Throwable error) {
    Throwable cause = unwrap(error);
    if (cause instanceof ObjectStoreException e) {
      return e;
    }
    String what = operation + " " + key + " in " + location();
    if (isMissingCredentials(cause)) {
      return new AccessDeniedException("no AWS credentials for " + config.endpointDescription()
          + ": set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (with "
          + "~/.aws/credentials), or run where an instance role provides them", cause);
    }
    if (cause instanceof NoSuchBucketException
        || (cause instanceof S3Exception s3 && isNoSuchBucket(s3))) {
      return new BucketNotFoundException("bucket '" + config.bucket() + "' does not exist at "
          + config.endpointDescription() + " (" + operation + " " + key + ")");
    }
    if (cause instanceof NoSuchKeyException
        || (cause instanceof S3Exception s3 && s3.statusCode() == 404)) {
      return new ObjectNotFoundException(location(), key);
    }
    if (cause instanceof S3Exception s3 && s3.statusCode() == 403) {
      String code = errorCode(s3);
      if ("InvalidAccessKeyId".equals(code) || "SignatureDoesNotMatch".equals(code)) {
        return new AccessDeniedException(what + ": the endpoint rejected the credentials ("
            + code + "; access key id " + describeKeyId() + ")", cause);
      }
      return new AccessDeniedException(what + ": access denied (" + code
          + "; check the bucket policy and the credentials' permissions)", cause);
    }
    if (cause instanceof S3Exception s3 && s3.statusCode() == 416) {
      return new ObjectStoreException(what + ": the range is beyond the end of the object", cause);
    }
    if (isUnreachable(cause)) {
      return new EndpointUnreachableException("S3 endpoint " + config.endpointDescription()
          + " does not answer (" + operation + " " + key + "): " + describe(cause), cause);
    }
    return new ObjectStoreException(what + " failed: " + describe(cause), cause);
  }

  private String describeKeyId() {
    return config.accessKeyId() == null ? "from the default chain" : config.accessKeyId();
  }

  /** The object size in a Content-Range header ({@code bytes 0-9/100}), or -1 if unknown. */
  static long totalSize(String contentRange) {
    int slash = contentRange == null ? -1 : contentRange.lastIndexOf('/');
    if (slash < 0) {
      return -1;
    }
    try {
      return Long.parseLong(contentRange.substring(slash + 1).trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** The default credential chain found nothing (its own message lists every provider). */
  private static boolean isMissingCredentials(Throwable cause) {
    return cause instanceof SdkClientException
        && String.valueOf(cause.getMessage()).startsWith("Unable to load credentials");
  }

  /** A 404 for the object, not for its bucket. */
  private static boolean isMissingObject(Throwable cause) {
    return cause instanceof NoSuchKeyException
        || (cause instanceof S3Exception s3 && s3.statusCode() == 404 && !isNoSuchBucket(s3));
  }

  private static boolean isNoSuchBucket(S3Exception s3) {
    return "NoSuchBucket".equals(errorCode(s3));
  }

  private static String errorCode(S3Exception s3) {
    // HEAD responses have no body, hence no error code.
    String code = s3.awsErrorDetails() == null ? null : s3.awsErrorDetails().errorCode();
    return code == null ? "HTTP " + s3.statusCode() : code;
  }

  private static boolean isUnreachable(Throwable cause) {
    if (cause instanceof ApiCallAttemptTimeoutException || cause instanceof ApiCallTimeoutException) {
      return true;
    }
    for (Throwable c = cause; c != null; c = c.getCause()) {
      if (c instanceof ConnectException || c instanceof UnknownHostException
          || c instanceof ClosedChannelException
          || c instanceof io.netty.channel.ConnectTimeoutException) {
        return true;
      }
    }
    return false;
  }

  private static String describe(Throwable cause) {
    if (cause instanceof S3Exception s3) {
      return "HTTP " + s3.statusCode() + " " + errorCode(s3);
    }
    Throwable root = cause;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = cause.getMessage();
    return root == cause ? String.valueOf(message)
        : message + " (" + root.getClass().getSimpleName() + ": " + root.getMessage() + ")";
  }

  static Throwable unwrap(Throwable t) {
    Throwable c = t;
    while ((c instanceof CompletionException || c instanceof ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }

  private static RuntimeException propagate(Throwable error) {
    return error instanceof RuntimeException r ? r : new CompletionException(error);
  }

  /** A response body that ended before the requested length. */
  static final class ShortReadException extends RuntimeException {
    ShortReadException(String message) {
      super(message);
    }
  }
}
