package io.stratus.s3test;

/** Where a suite's object store lives; every suite in this module runs against each. */
enum StoreTarget {
  /** A folder on the local disk: always runs. */
  LOCAL_DIRECTORY(false),
  /** S3Proxy on 127.0.0.1 (a real S3 protocol server in this JVM): always runs. */
  S3PROXY(true),
  /** LocalStack in a container through Testcontainers: runs where a Docker engine exists. */
  LOCALSTACK(true);

  private final boolean s3;

  StoreTarget(boolean s3) {
    this.s3 = s3;
  }

  /** Whether the target speaks the S3 protocol (and a fault proxy can sit in front of it). */
  boolean s3() {
    return s3;
  }
}
