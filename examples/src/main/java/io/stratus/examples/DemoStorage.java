package io.stratus.examples;

import io.stratus.s3.EmbeddedS3Server;
import io.stratus.store.objectstore.ObjectStoreException;
import io.stratus.store.objectstore.S3Config;
import io.stratus.store.objectstore.S3ObjectStore;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletionException;
import java.util.stream.Stream;

/**
 * Where a command keeps its state: an embedded S3Proxy with its data in {@code <data-dir>/s3}
 * (the default; kept from run to run), or any S3 endpoint given with
 * {@code --s3-endpoint/--bucket}. Checks access before anything starts, so an unreachable or
 * misconfigured S3, or missing credentials, fail at once with a message that names them.
 */
final class DemoStorage implements AutoCloseable {

  private static final String MARKER = ".stratus-demo";

  private final EmbeddedS3Server server;
  private final S3ObjectStore objects;
  private final Path dataDir;

  private DemoStorage(EmbeddedS3Server server, S3ObjectStore objects, Path dataDir) {
    this.server = server;
    this.objects = objects;
    this.dataDir = dataDir;
  }

  /**
   * Opens the storage the options describe.
   *
   * @throws IllegalArgumentException on inconsistent options
   * @throws IOException              naming the problem when S3 cannot be used
   */
  static DemoStorage open(StorageOptions o, String defaultPrefix) throws IOException {
    if ((o.endpoint == null) != (o.bucket == null)) {
      throw new IllegalArgumentException("--s3-endpoint and --bucket go together");
    }
    Path dataDir = o.dataDir.toAbsolutePath();
    EmbeddedS3Server server = null;
    S3Config config;
    if (o.endpoint != null) {
      config = S3Config.forBucket(o.bucket).withEndpoint(parseEndpoint(o.endpoint),
          !o.virtualHost).withRegion(o.region);
    } else {
      Path s3Dir = dataDir.resolve("s3");
      checkOwnDirectory(s3Dir);
      server = EmbeddedS3Server.start(s3Dir);
      Files.writeString(s3Dir.resolve(MARKER), "created by a stratus demo\n");
      server.createBucket("stratus");
      config = S3Config.forBucket("stratus").withEndpoint(server.endpoint(), true)
          .withCredentials(server.accessKey(), server.secretKey());
    }
    S3ObjectStore objects = new S3ObjectStore(config.withPrefix(o.prefix != null ? o.prefix
        : defaultPrefix));
    try {
      objects.checkAccess().join();
    } catch (CompletionException e) {
      objects.close();
      if (server != null) {
        server.close();
      }
      if (e.getCause() instanceof ObjectStoreException s) {
        throw new IOException(s.getMessage(), s);
      }
      throw e;
    }
    return new DemoStorage(server, objects, dataDir);
  }

  S3ObjectStore objects() {
    return objects;
  }

  Path dataDir() {
    return dataDir;
  }

  /**
   * The disk caches' folder for this bucket and prefix: a process holds the prefix's lease
   * while it uses them, so two commands on other prefixes never share (and wipe) each other's.
   */
  Path cacheDirectory() {
    String prefix = objects.config().prefix().replaceAll("/+$", "");
    return dataDir.resolve("cache").resolve(objects.config().bucket())
        .resolve(prefix.isEmpty() ? "_root" : prefix.replaceAll("[^A-Za-z0-9_.-]", "_"));
  }

  /** One line saying where the state goes. */
  String describe() {
    return objects.location() + (server != null
        ? " (embedded S3Proxy at " + server.endpoint() + ", data in " + server.dataDirectory()
        + ")" : "");
  }

  @Override
  public void close() {
    objects.close();
    if (server != null) {
      server.close();
    }
  }

  private static URI parseEndpoint(String value) {
    try {
      URI uri = URI.create(value);
      if (uri.getScheme() != null && uri.getHost() != null) {
        return uri;
      }
    } catch (IllegalArgumentException e) {
      // reported below
    }
    throw new IllegalArgumentException("--s3-endpoint must be a URL like "
        + "http://127.0.0.1:9000, was '" + value + "'");
  }

  /** Refuses a folder with files that no stratus command put there. */
  private static void checkOwnDirectory(Path dir) throws IOException {
    if (Files.isDirectory(dir) && !Files.exists(dir.resolve(MARKER))) {
      try (Stream<Path> entries = Files.list(dir)) {
        if (entries.findAny().isPresent()) {
          throw new IOException(dir + " holds files no stratus command created; choose another "
              + "--data-dir");
        }
      }
    }
  }
}
