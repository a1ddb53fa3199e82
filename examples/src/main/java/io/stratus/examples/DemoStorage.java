package io.stratus.examples;

import io.stratus.s3.EmbeddedS3Server;
import io.stratus.store.objectstore.ObjectStoreException;
import io.stratus.store.objectstore.S3Config;
import io.stratus.store.objectstore.S3ObjectStore;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
    return open(o, defaultPrefix, 0, false);
  }

  /**
   * As {@link #open(StorageOptions, String)}; an embedded server listens on
   * {@code --s3-port} or {@code defaultPort}, and with {@code stableCredentials} signs with
   * credentials kept in {@code <data-dir>/s3-credentials} (made once, readable by the owner
   * only), so that worker processes keep reaching it across restarts of this process.
   */
  static DemoStorage open(StorageOptions o, String defaultPrefix, int defaultPort,
      boolean stableCredentials) throws IOException {
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
      int port = o.s3Port != null ? o.s3Port : defaultPort;
      if (stableCredentials) {
        String[] keys = credentials(dataDir.resolve("s3-credentials"));
        server = EmbeddedS3Server.start(s3Dir, port, keys[0], keys[1]);
      } else {
        server = EmbeddedS3Server.start(s3Dir, port);
      }
      Files.writeString(s3Dir.resolve(MARKER), "created by a stratus demo\n");
      server.createBucket("stratus");
      config = S3Config.forBucket("stratus").withEndpoint(server.endpoint(), true)
          .withCredentials(server.accessKey(), server.secretKey());
    }
    return checked(new S3ObjectStore(config.withPrefix(o.prefix != null ? o.prefix
        : defaultPrefix)), server, dataDir);
  }

  /**
   * What a worker process needs to reach this storage, for the coordinator to hand to the
   * workers that join: the endpoint, bucket, prefix, region and addressing; the embedded
   * server's own credentials (local to it, generated at its start) too, since a worker cannot
   * find them anywhere else. Real S3 credentials are never handed out: workers use their own.
   */
  Map<String, String> forWorkers() {
    S3Config c = objects.config();
    Map<String, String> out = new LinkedHashMap<>();
    if (c.endpoint() != null) {
      out.put("s3.endpoint", c.endpoint().toString());
    }
    out.put("s3.bucket", c.bucket());
    out.put("s3.prefix", c.prefix());
    out.put("s3.region", c.region());
    out.put("s3.pathStyle", String.valueOf(c.pathStyle()));
    if (server != null) {
      out.put("s3.accessKey", server.accessKey());
      out.put("s3.secretKey", server.secretKey());
    }
    return out;
  }

  /**
   * Storage as a coordinator described it ({@link #forWorkers}), for a worker process; with
   * {@code --s3-endpoint} the worker's own options win. Checks access like {@link #open}.
   *
   * @throws IOException naming the problem when S3 cannot be used
   */
  static DemoStorage connect(Map<String, String> offered, StorageOptions own)
      throws IOException {
    if (own.endpoint != null) {
      if (own.bucket == null) {
        throw new IllegalArgumentException("--s3-endpoint and --bucket go together");
      }
      S3Config config = S3Config.forBucket(own.bucket).withEndpoint(parseEndpoint(own.endpoint),
          !own.virtualHost).withRegion(own.region)
          .withPrefix(own.prefix != null ? own.prefix : offered.get("s3.prefix"));
      return checked(new S3ObjectStore(config), null, own.dataDir.toAbsolutePath());
    }
    String bucket = offered.get("s3.bucket");
    if (bucket == null) {
      throw new IOException("the coordinator did not say where its bucket is; give "
          + "--s3-endpoint and --bucket");
    }
    S3Config config = S3Config.forBucket(bucket).withRegion(offered.get("s3.region"))
        .withPrefix(offered.get("s3.prefix"));
    if (offered.containsKey("s3.endpoint")) {
      config = config.withEndpoint(parseEndpoint(offered.get("s3.endpoint")),
          Boolean.parseBoolean(offered.get("s3.pathStyle")));
    }
    if (offered.containsKey("s3.accessKey")) {
      config = config.withCredentials(offered.get("s3.accessKey"), offered.get("s3.secretKey"));
    }
    return checked(new S3ObjectStore(config), null, own.dataDir.toAbsolutePath());
  }

  private static DemoStorage checked(S3ObjectStore objects, EmbeddedS3Server server,
      Path dataDir) throws IOException {
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

  /** The embedded server's access key and secret from {@code file}, made there first. */
  private static String[] credentials(Path file) throws IOException {
    if (!Files.exists(file)) {
      String[] made = EmbeddedS3Server.newCredentials();
      String keys = made[0] + "\n" + made[1] + "\n";
      Files.createDirectories(file.getParent());
      Path temp = Files.createTempFile(file.getParent(), ".s3-credentials", ".tmp",
          java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
              java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
      Files.writeString(temp, keys);
      Files.move(temp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
    List<String> lines = Files.readAllLines(file);
    if (lines.size() < 2 || lines.get(0).isBlank() || lines.get(1).isBlank()) {
      throw new IOException(file + " does not hold an access key and a secret on two lines; "
          + "remove it to make new ones");
    }
    return new String[] {lines.get(0).strip(), lines.get(1).strip()};
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
