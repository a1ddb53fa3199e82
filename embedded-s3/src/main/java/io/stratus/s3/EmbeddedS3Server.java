package io.stratus.s3;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An S3-compatible server (S3Proxy) inside this JVM, bound to {@code 127.0.0.1} on a free port:
 * the embedded default of the demo and the S3 protocol peer of the tests, with no cloud account
 * and no Docker. Objects live in memory or in a local folder. Each server makes up its own
 * random credentials; clients must sign with them (AWS signature V2 or V4), as with real S3.
 */
public final class EmbeddedS3Server implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedS3Server.class);

  private final S3Proxy proxy;
  private final BlobStore blobs;
  private final String accessKey;
  private final String secretKey;
  private final URI endpoint;
  private final Path dataDirectory;

  private EmbeddedS3Server(Path dataDirectory, int port, String accessKey, String secretKey)
      throws Exception {
    this.dataDirectory = dataDirectory;
    this.accessKey = accessKey;
    this.secretKey = secretKey;
    this.blobs = dataDirectory == null ? new TransientNio2BlobStore()
        : new FilesystemNio2BlobStore(dataDirectory.toString());
    this.proxy = S3Proxy.builder()
        .blobStore(blobs)
        .endpoint(URI.create("http://127.0.0.1:" + port))
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, accessKey, secretKey)
        .ignoreUnknownHeaders(true)
        .build();
    proxy.start();
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!"STARTED".equals(proxy.getState())) {
      if (System.nanoTime() > deadline) {
        proxy.stop();
        throw new IllegalStateException("embedded S3 server did not start within 30 s (state "
            + proxy.getState() + ")");
      }
      Thread.sleep(5);
    }
    this.endpoint = URI.create("http://127.0.0.1:" + proxy.getPort());
    LOG.info("Embedded S3 server at {} ({})", endpoint,
        dataDirectory == null ? "in memory" : "data in " + dataDirectory);
  }

  /** A server that keeps objects in memory. */
  public static EmbeddedS3Server startInMemory() {
    return start(null);
  }

  /**
   * A server that keeps objects under {@code dataDirectory} (created if missing), or in memory
   * when it is {@code null}.
   */
  public static EmbeddedS3Server start(Path dataDirectory) {
    return start(dataDirectory, 0);
  }

  /** As {@link #start(Path)}, on {@code 127.0.0.1:port} (0 for any free port). */
  public static EmbeddedS3Server start(Path dataDirectory, int port) {
    String[] credentials = newCredentials();
    return start(dataDirectory, port, credentials[0], credentials[1]);
  }

  /** A new random access key and secret, for {@link #start(Path, int, String, String)}. */
  public static String[] newCredentials() {
    SecureRandom random = new SecureRandom();
    return new String[] {"stratus-" + HexFormat.of().formatHex(random.generateSeed(6)),
        HexFormat.of().formatHex(random.generateSeed(20))};
  }

  /**
   * A server on {@code 127.0.0.1:port} (0 for any free port) that accepts requests signed with
   * these credentials, so that clients configured once keep working across its restarts.
   */
  public static EmbeddedS3Server start(Path dataDirectory, int port, String accessKey,
      String secretKey) {
    try {
      if (dataDirectory != null) {
        Files.createDirectories(dataDirectory);
      }
      return new EmbeddedS3Server(dataDirectory, port, accessKey, secretKey);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the embedded S3 server in " + dataDirectory
          + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting the embedded S3 server", e);
    } catch (Exception e) {
      throw new IllegalStateException("cannot start the embedded S3 server on 127.0.0.1:" + port
          + ": " + e.getMessage(), e);
    }
  }

  /** {@code http://127.0.0.1:<port>}; clients must use path-style addressing. */
  public URI endpoint() {
    return endpoint;
  }

  public String accessKey() {
    return accessKey;
  }

  /** The secret to sign requests with; never log it. */
  public String secretKey() {
    return secretKey;
  }

  /** Where objects are kept, or {@code null} in memory. */
  public Path dataDirectory() {
    return dataDirectory;
  }

  /** Creates a bucket unless it exists. */
  public void createBucket(String bucket) {
    if (!blobs.containerExists(bucket)) {
      blobs.createContainer(bucket);
    }
  }

  @Override
  public void close() {
    try {
      proxy.stop();
    } catch (Exception e) {
      LOG.warn("Embedded S3 server at {} did not stop cleanly: {}", endpoint, e.toString());
    }
  }

  @Override
  public String toString() {
    return "EmbeddedS3Server[" + endpoint + ", access key " + accessKey + "]";
  }
}
