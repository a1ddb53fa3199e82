package io.stratus.store;

import io.stratus.s3.EmbeddedS3Server;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.ObjectStore;
import io.stratus.store.objectstore.RetryPolicy;
import io.stratus.store.objectstore.S3Config;
import io.stratus.store.objectstore.S3ObjectStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;

/**
 * The real object stores tests run against: a local directory and an embedded S3Proxy on
 * loopback. One S3 server per test class ({@link #startS3()} in {@code @BeforeAll}, closed in
 * {@code @AfterAll}); each store gets its own bucket so tests never see each other's objects.
 */
public final class TestObjectStores {

  /** Which implementation a parameterized test runs against. */
  public enum Kind { LOCAL_DIRECTORY, S3 }

  private TestObjectStores() {}

  public static EmbeddedS3Server startS3() {
    return EmbeddedS3Server.startInMemory();
  }

  /** A fresh store of {@code kind}; {@code s3} may be null for LOCAL_DIRECTORY. */
  public static ObjectStore open(Kind kind, Path dir, EmbeddedS3Server s3) {
    return switch (kind) {
      case LOCAL_DIRECTORY -> new LocalDirectoryObjectStore(dir.resolve("bucket"));
      case S3 -> s3Store(s3, freshBucket(s3), RetryPolicy.defaults());
    };
  }

  public static String freshBucket(EmbeddedS3Server s3) {
    String bucket = "b-" + UUID.randomUUID().toString().substring(0, 12);
    s3.createBucket(bucket);
    return bucket;
  }

  public static S3ObjectStore s3Store(EmbeddedS3Server s3, String bucket, RetryPolicy retry) {
    return new S3ObjectStore(s3Config(s3, bucket).withRetry(retry));
  }

  public static S3Config s3Config(EmbeddedS3Server s3, String bucket) {
    return S3Config.forBucket(bucket)
        .withEndpoint(s3.endpoint(), true)
        .withCredentials(s3.accessKey(), s3.secretKey())
        .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(10));
  }
}
