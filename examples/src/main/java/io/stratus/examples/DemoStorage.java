package io.stratus.examples;

import io.stratus.s3.EmbeddedS3Server;
import io.stratus.store.objectstore.ObjectStoreException;
import io.stratus.store.objectstore.S3Config;
import io.stratus.store.objectstore.S3ObjectStore;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.stream.Stream;

/**
 * Where a demo keeps its state: an embedded S3Proxy with its data in {@code <data-dir>/s3}
 * (the default, emptied at each start if the demo created it), or any S3 endpoint given with
 * {@code --s3-endpoint/--bucket}. Checks access before the demo starts, so an unreachable or
 * misconfigured S3 fails at once with a message that names it.
 */
final class DemoStorage implements AutoCloseable {

  static final Set<String> OPTIONS_WITH_VALUE =
      Set.of("--data-dir", "--s3-endpoint", "--bucket", "--region", "--prefix");
  static final Set<String> FLAGS = Set.of("--virtual-host");

  /** Adds the storage options' descriptions to a command's {@code --help}. */
  static void describe(LinkedHashMap<String, String> options) {
    options.put("--data-dir DIR", "embedded S3 data and cache folder (default ./data)");
    options.put("--s3-endpoint URL", "use this S3 endpoint instead of the embedded server");
    options.put("--bucket NAME", "bucket on that endpoint (required with --s3-endpoint)");
    options.put("--region NAME", "signing region (default us-east-1)");
    options.put("--prefix P", "key prefix in the bucket (default " + "<demo>/<time>/)");
    options.put("--virtual-host", "virtual-host addressing instead of path-style");
  }

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
  static DemoStorage open(CommandLineOptions o, String defaultPrefix) throws IOException {
    if (o.has("--s3-endpoint") != o.has("--bucket")) {
      throw new IllegalArgumentException("--s3-endpoint and --bucket go together");
    }
    Path dataDir = Path.of(o.string("--data-dir", "data")).toAbsolutePath();
    EmbeddedS3Server server = null;
    S3Config config;
    if (o.has("--s3-endpoint")) {
      config = S3Config.forBucket(o.string("--bucket", null))
          .withEndpoint(parseEndpoint(o.string("--s3-endpoint", null)), !o.has("--virtual-host"))
          .withRegion(o.string("--region", "us-east-1"));
    } else {
      Path s3Dir = dataDir.resolve("s3");
      wipeOwnDirectory(s3Dir);
      server = EmbeddedS3Server.start(s3Dir);
      Files.writeString(s3Dir.resolve(".stratus-demo"), "created by a stratus demo\n");
      server.createBucket("stratus");
      config = S3Config.forBucket("stratus").withEndpoint(server.endpoint(), true)
          .withCredentials(server.accessKey(), server.secretKey());
    }
    S3ObjectStore objects = new S3ObjectStore(config.withPrefix(o.string("--prefix",
        defaultPrefix)));
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

  private static void wipeOwnDirectory(Path dir) throws IOException {
    if (!Files.exists(dir.resolve(".stratus-demo"))) {
      if (Files.isDirectory(dir)) {
        try (Stream<Path> entries = Files.list(dir)) {
          if (entries.findAny().isPresent()) {
            throw new IOException(dir + " holds files no stratus demo created; choose another "
                + "--data-dir");
          }
        }
      }
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }
}
