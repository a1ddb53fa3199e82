package io.stratus.s3test;

import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.ObjectStore;
import io.stratus.store.objectstore.RetryPolicy;
import io.stratus.store.objectstore.S3Config;
import io.stratus.store.objectstore.S3ObjectStore;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;

/**
 * The servers and stores one test class uses ({@code @RegisterExtension static}): each server
 * starts on first use; stores and servers are closed after the class's last test. Without a
 * Docker engine, asking for {@link StoreTarget#LOCALSTACK} aborts the test with a message saying
 * so: JUnit reports it as skipped, never as passed.
 */
final class StoreTargets implements AfterAllCallback, ExecutionCondition, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(StoreTargets.class);
  private static Boolean docker;

  private final Map<StoreTarget, S3Server> servers = new EnumMap<>(StoreTarget.class);
  /** S3 clients take ~2 s each to close (Netty's quiet period): closed together at the end. */
  private final List<ObjectStore> opened = new ArrayList<>();

  /** Whether a Docker engine answers (asked once per JVM). */
  static synchronized boolean dockerAvailable() {
    if (docker == null) {
      docker = DockerClientFactory.instance().isDockerAvailable();
      if (!docker) {
        LOG.warn("No Docker engine: the LocalStack target is SKIPPED; S3Proxy and the local "
            + "directory run in its place");
      }
    }
    return docker;
  }

  private static final String NO_DOCKER = "LocalStack skipped: no Docker engine on this "
      + "machine (Testcontainers found none); the same test ran against S3Proxy";

  /** Aborts the calling test (reported as skipped, with the reason) if {@code target} can't run. */
  static void assumeAvailable(StoreTarget target) {
    if (target == StoreTarget.LOCALSTACK) {
      Assumptions.assumeTrue(dockerAvailable(), NO_DOCKER);
    }
  }

  /**
   * Disables a LocalStack invocation ({@code @ParameterizedTest(name = "{0}")}) up front when
   * there is no Docker engine: the reason then goes into the test report's {@code skipped}
   * element as its message, where report viewers show it.
   */
  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    if (context.getTestMethod().isPresent()
        && context.getDisplayName().equals(StoreTarget.LOCALSTACK.name()) && !dockerAvailable()) {
      return ConditionEvaluationResult.disabled(NO_DOCKER);
    }
    return ConditionEvaluationResult.enabled("the target can run here");
  }

  /** The S3 server behind {@code target}, started on first use. */
  synchronized S3Server server(StoreTarget target) {
    if (!target.s3()) {
      throw new IllegalArgumentException(target + " is not an S3 server");
    }
    assumeAvailable(target);
    return servers.computeIfAbsent(target,
        t -> t == StoreTarget.S3PROXY ? S3Server.s3Proxy() : S3Server.localStack());
  }

  /** A new empty bucket on {@code target}'s server. */
  String freshBucket(StoreTarget target) {
    String bucket = "b-" + UUID.randomUUID().toString().substring(0, 12);
    server(target).createBucket(bucket);
    return bucket;
  }

  /**
   * A client configuration for {@code bucket} on {@code target}, reached through
   * {@code endpoint} (the server's own, or a fault proxy's in front of it).
   */
  S3Config config(StoreTarget target, URI endpoint, String bucket) {
    S3Server server = server(target);
    return S3Config.forBucket(bucket).withEndpoint(endpoint, true).withRegion(server.region())
        .withCredentials(server.accessKey(), server.secretKey())
        .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(10))
        .withRetry(RetryPolicy.defaults());
  }

  /** A fresh empty store on {@code target}; closed by {@link #close()}. */
  ObjectStore open(StoreTarget target, Path dir) {
    assumeAvailable(target);
    if (!target.s3()) {
      return track(new LocalDirectoryObjectStore(dir.resolve("bucket-" + UUID.randomUUID())));
    }
    return open(config(target, server(target).endpoint(), freshBucket(target)));
  }

  /** An S3 store of {@code config}; closed by {@link #close()}. */
  S3ObjectStore open(S3Config config) {
    return track(new S3ObjectStore(config));
  }

  private synchronized <T extends ObjectStore> T track(T store) {
    opened.add(store);
    return store;
  }

  @Override
  public void afterAll(ExtensionContext context) {
    close();
  }

  @Override
  public synchronized void close() {
    opened.parallelStream().forEach(ObjectStore::close);
    opened.clear();
    servers.values().forEach(S3Server::close);
    servers.clear();
  }
}
