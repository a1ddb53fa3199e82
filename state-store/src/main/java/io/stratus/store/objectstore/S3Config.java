package io.stratus.store.objectstore;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;

/**
 * Where and how to reach an S3-compatible bucket (AWS S3, MinIO, LocalStack, S3Proxy).
 *
 * @param endpoint        the endpoint URI, or {@code null} for AWS's own endpoint of the region
 * @param region          the signing region (S3-compatible servers accept any; default
 *                        {@code us-east-1})
 * @param bucket          the bucket name (3 to 63 characters)
 * @param prefix          a key prefix inside the bucket, so several jobs can share one bucket;
 *                        normalized to empty or ending with {@code /}
 * @param pathStyle       path-style addressing ({@code endpoint/bucket/key}), which most
 *                        S3-compatible servers need
 * @param accessKeyId     static credentials, or {@code null} for the AWS default chain
 *                        (environment, profile, instance role)
 * @param secretAccessKey the secret of {@code accessKeyId}; never logged or printed
 * @param maxConcurrency  requests in flight at most; more wait in a queue
 * @param connectTimeout  TCP connect timeout
 * @param attemptTimeout  timeout of one request attempt, after which it is retried
 * @param retry           the retry policy for transient failures
 */
public record S3Config(
    URI endpoint,
    String region,
    String bucket,
    String prefix,
    boolean pathStyle,
    String accessKeyId,
    String secretAccessKey,
    int maxConcurrency,
    Duration connectTimeout,
    Duration attemptTimeout,
    RetryPolicy retry) {

  public S3Config {
    Objects.requireNonNull(bucket, "bucket");
    if (bucket.length() < 3 || bucket.length() > 63) {
      throw new IllegalArgumentException(
          "S3 bucket name must have 3 to 63 characters, was '" + bucket + "'");
    }
    if (endpoint != null && !"http".equals(endpoint.getScheme())
        && !"https".equals(endpoint.getScheme())) {
      throw new IllegalArgumentException(
          "S3 endpoint must be an http:// or https:// URI, was '" + endpoint + "'");
    }
    region = region == null || region.isBlank() ? "us-east-1" : region;
    prefix = normalizePrefix(prefix);
    if ((accessKeyId == null) != (secretAccessKey == null)) {
      throw new IllegalArgumentException(
          "S3 credentials need both an access key id and a secret access key, or neither "
              + "(to use the default credential chain)");
    }
    if (maxConcurrency < 1) {
      throw new IllegalArgumentException("S3 maxConcurrency must be >= 1, was " + maxConcurrency);
    }
    Objects.requireNonNull(connectTimeout, "connectTimeout");
    Objects.requireNonNull(attemptTimeout, "attemptTimeout");
    Objects.requireNonNull(retry, "retry");
  }

  /** A config for {@code bucket} on AWS with the default chain and default limits. */
  public static S3Config forBucket(String bucket) {
    return new S3Config(null, "us-east-1", bucket, "", false, null, null, 64,
        Duration.ofSeconds(5), Duration.ofSeconds(30), RetryPolicy.defaults());
  }

  public S3Config withEndpoint(URI uri, boolean usePathStyle) {
    return new S3Config(uri, region, bucket, prefix, usePathStyle, accessKeyId, secretAccessKey,
        maxConcurrency, connectTimeout, attemptTimeout, retry);
  }

  public S3Config withRegion(String value) {
    return new S3Config(endpoint, value, bucket, prefix, pathStyle, accessKeyId, secretAccessKey,
        maxConcurrency, connectTimeout, attemptTimeout, retry);
  }

  public S3Config withPrefix(String value) {
    return new S3Config(endpoint, region, bucket, value, pathStyle, accessKeyId, secretAccessKey,
        maxConcurrency, connectTimeout, attemptTimeout, retry);
  }

  public S3Config withCredentials(String keyId, String secret) {
    return new S3Config(endpoint, region, bucket, prefix, pathStyle, keyId, secret,
        maxConcurrency, connectTimeout, attemptTimeout, retry);
  }

  public S3Config withMaxConcurrency(int value) {
    return new S3Config(endpoint, region, bucket, prefix, pathStyle, accessKeyId, secretAccessKey,
        value, connectTimeout, attemptTimeout, retry);
  }

  public S3Config withTimeouts(Duration connect, Duration attempt) {
    return new S3Config(endpoint, region, bucket, prefix, pathStyle, accessKeyId, secretAccessKey,
        maxConcurrency, connect, attempt, retry);
  }

  public S3Config withRetry(RetryPolicy value) {
    return new S3Config(endpoint, region, bucket, prefix, pathStyle, accessKeyId, secretAccessKey,
        maxConcurrency, connectTimeout, attemptTimeout, value);
  }

  /** {@code s3://bucket/prefix}, for messages. */
  public String location() {
    return "s3://" + bucket + "/" + prefix;
  }

  /** The endpoint as users configured it, for messages. */
  public String endpointDescription() {
    return endpoint == null ? "AWS S3 (" + region + ")" : endpoint.toString();
  }

  private static String normalizePrefix(String p) {
    if (p == null || p.isEmpty() || p.equals("/")) {
      return "";
    }
    String s = p.startsWith("/") ? p.substring(1) : p;
    return s.endsWith("/") ? s : s + "/";
  }

  /** Shows everything but the secret. */
  @Override
  public String toString() {
    return "S3Config[endpoint=" + endpointDescription() + ", region=" + region + ", bucket="
        + bucket + ", prefix=" + prefix + ", pathStyle=" + pathStyle + ", credentials="
        + (accessKeyId == null ? "default chain" : "static key " + accessKeyId + " (secret hidden)")
        + ", maxConcurrency=" + maxConcurrency + ", connectTimeout=" + connectTimeout
        + ", attemptTimeout=" + attemptTimeout + ", retry=" + retry + "]";
  }
}
