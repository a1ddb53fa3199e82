package io.stratus.s3test;

import io.stratus.s3.EmbeddedS3Server;
import java.io.IOException;
import java.net.URI;
import org.testcontainers.localstack.LocalStackContainer;
import org.testcontainers.utility.DockerImageName;

/** An S3 protocol server a suite talks to: its endpoint, credentials and buckets. */
interface S3Server extends AutoCloseable {

  URI endpoint();

  String accessKey();

  String secretKey();

  String region();

  void createBucket(String bucket);

  @Override
  void close();

  /** S3Proxy in this JVM, bound to 127.0.0.1, objects in memory. */
  static S3Server s3Proxy() {
    EmbeddedS3Server server = EmbeddedS3Server.startInMemory();
    return new S3Server() {
      @Override
      public URI endpoint() {
        return server.endpoint();
      }

      @Override
      public String accessKey() {
        return server.accessKey();
      }

      @Override
      public String secretKey() {
        return server.secretKey();
      }

      @Override
      public String region() {
        return "us-east-1";
      }

      @Override
      public void createBucket(String bucket) {
        server.createBucket(bucket);
      }

      @Override
      public void close() {
        server.close();
      }
    };
  }

  /**
   * LocalStack through Testcontainers; only call where a Docker engine answers. The image can
   * be changed with {@code -Dstratus.localstack.image=...}.
   */
  static S3Server localStack() {
    LocalStackContainer container = new LocalStackContainer(DockerImageName.parse(
        System.getProperty("stratus.localstack.image", "localstack/localstack:4.4.0")))
        .withServices("s3");
    container.start();
    return new S3Server() {
      @Override
      public URI endpoint() {
        return container.getEndpoint();
      }

      @Override
      public String accessKey() {
        return container.getAccessKey();
      }

      @Override
      public String secretKey() {
        return container.getSecretKey();
      }

      @Override
      public String region() {
        return container.getRegion();
      }

      @Override
      public void createBucket(String bucket) {
        try {
          var result = container.execInContainer("awslocal", "s3api", "create-bucket",
              "--bucket", bucket);
          if (result.getExitCode() != 0) {
            throw new IllegalStateException("creating bucket " + bucket + " in LocalStack "
                + "failed: " + result.getStderr());
          }
        } catch (IOException e) {
          throw new IllegalStateException("creating bucket " + bucket + " in LocalStack", e);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted creating bucket " + bucket, e);
        }
      }

      @Override
      public void close() {
        container.stop();
      }
    };
  }
}
