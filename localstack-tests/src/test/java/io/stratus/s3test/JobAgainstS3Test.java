package io.stratus.s3test;

import static io.stratus.scheduler.JobProgress.awaitCheckpoint;
import static io.stratus.scheduler.JobProgress.newestCheckpoint;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.s3test.FaultProxy.Fault;
import io.stratus.scheduler.CheckpointConfig;
import io.stratus.scheduler.CheckpointMetadata;
import io.stratus.scheduler.CheckpointStorage;
import io.stratus.scheduler.EmbeddedCluster;
import io.stratus.scheduler.lease.CoordinatorLease;
import io.stratus.scheduler.JobController;
import io.stratus.scheduler.JobDefinition;
import io.stratus.scheduler.JobState;
import io.stratus.scheduler.JobStatus;
import io.stratus.scheduler.RescaleReport;
import io.stratus.scheduler.RestartStrategy;
import io.stratus.scheduler.TotalsJob;
import io.stratus.store.lsm.CheckpointHandle;
import io.stratus.store.objectstore.ObjectInfo;
import io.stratus.store.objectstore.ObjectStore;
import io.stratus.store.objectstore.RetryPolicy;
import io.stratus.store.objectstore.S3Config;
import io.stratus.store.objectstore.S3ObjectStore;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A whole stateful job (running totals per user, exactly-once file sink) against each
 * {@link StoreTarget}: checkpoint, rescale and restore; S3 faults in the middle of the run; S3
 * unreachable at start; two jobs sharing a bucket. The output is always compared with the one
 * computed straight from the input stream.
 */
class JobAgainstS3Test {

  private static final long EVENTS = 200_000;
  private static final BlockCacheConfig CACHE = BlockCacheConfig.memoryOnly(8 << 20);

  @RegisterExtension
  static final StoreTargets targets = new StoreTargets();
  private final List<EmbeddedCluster> clusters = new ArrayList<>();
  private final List<FaultProxy> proxies = new ArrayList<>();

  @TempDir
  Path dir;

  @AfterEach
  void stopClusters() throws Exception {
    clusters.forEach(EmbeddedCluster::close);
    for (FaultProxy proxy : proxies) {
      proxy.close();
    }
  }

  private EmbeddedCluster cluster(ObjectStore objects) {
    EmbeddedCluster cluster = new EmbeddedCluster(objects, 3, CACHE, Duration.ofMillis(100));
    clusters.add(cluster);
    return cluster;
  }

  private FaultProxy proxy(StoreTarget target) throws Exception {
    FaultProxy proxy = new FaultProxy(targets.server(target).endpoint());
    proxies.add(proxy);
    return proxy;
  }

  /** A client through {@code proxy} that gives up quickly, so faults show as failures. */
  private S3ObjectStore storeThrough(StoreTarget target, FaultProxy proxy, String bucket,
      String prefix) {
    S3Config config = targets.config(target, proxy.endpoint(), bucket)
        .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(1))
        .withRetry(new RetryPolicy(6, Duration.ofMillis(20), Duration.ofMillis(200)));
    return targets.open(prefix == null ? config : config.withPrefix(prefix));
  }

  /**
   * A fresh bucket on {@code target}: {@code objects} reaches it through {@code proxy},
   * {@code direct} without (to see what is really there).
   */
  private record ProxiedBucket(String name, FaultProxy proxy, S3ObjectStore objects,
      S3ObjectStore direct) {}

  private ProxiedBucket proxiedBucket(StoreTarget target) throws Exception {
    String bucket = targets.freshBucket(target);
    FaultProxy proxy = proxy(target);
    return new ProxiedBucket(bucket, proxy, storeThrough(target, proxy, bucket, null),
        direct(target, bucket));
  }

  /** The same bucket without the proxy: what is really there. */
  private S3ObjectStore direct(StoreTarget target, String bucket) {
    return targets.open(targets.config(target, targets.server(target).endpoint(), bucket));
  }

  private JobDefinition register(EmbeddedCluster cluster, String name, ObjectStore objects,
      int parallelism, CheckpointConfig checkpoints, RestartStrategy restarts, long perSecond) {
    JobDefinition job = TotalsJob.definition(name, objects, "out/" + name,
        dir.resolve("local-" + name), parallelism, EVENTS, checkpoints, restarts, perSecond);
    cluster.catalog().register(job);
    return job;
  }

  private static CheckpointConfig every(long millis) {
    return CheckpointConfig.defaults().withInterval(Duration.ofMillis(millis)).withRetained(2)
        .withMinPause(Duration.ZERO);
  }

  private static JobStatus await(JobController job) throws Exception {
    return job.result().get(180, TimeUnit.SECONDS);
  }

  private static Set<String> objectsOf(CheckpointMetadata m) {
    Set<String> out = new HashSet<>();
    for (CheckpointHandle h : m.checkpointHandles()) {
      out.add(h.manifestKey());
      out.addAll(h.files());
    }
    return out;
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreTarget.class)
  void checkpointRescaleThenRestoreAtAnotherParallelismGivesTheUninterruptedOutput(
      StoreTarget target) throws Exception {
    ObjectStore objects = targets.open(target, dir);
    EmbeddedCluster cluster = cluster(objects);
    JobDefinition first = register(cluster, "first", objects, 2, every(200),
        RestartStrategy.none(), 40_000);
    JobController job = cluster.coordinator().submit("first", null, Map.of());
    awaitCheckpoint(job, 0);

    RescaleReport rescale = job.rescale(Map.of(TotalsJob.OPERATOR, 3)).get(60, TimeUnit.SECONDS);
    assertEquals(3, job.status().get().parallelism().get(TotalsJob.OPERATOR), rescale.toString());
    awaitCheckpoint(job, newestCheckpoint(job));
    CheckpointMetadata savepoint = job.stopWithSavepoint("sp").get(60, TimeUnit.SECONDS);
    assertEquals(JobState.CANCELED, await(job).state());
    List<String> before = TotalsJob.committedOutput(first);
    assertTrue(before.size() > 0 && before.size() < EVENTS, "savepoint after " + before.size());

    CheckpointMetadata restore = cluster.coordinator().storage()
        .read(CheckpointStorage.savepointKey("first", "sp")).get(30, TimeUnit.SECONDS);
    assertEquals(savepoint, restore);
    JobDefinition resumed = register(cluster, "resumed", objects, 2, every(200),
        RestartStrategy.none(), 0);
    JobStatus end = await(cluster.coordinator().submit("resumed", restore,
        Map.of(TotalsJob.OPERATOR, 2)));
    assertEquals(JobState.FINISHED, end.state(), String.valueOf(end));
    List<String> all = new ArrayList<>(before);
    all.addAll(TotalsJob.committedOutput(resumed));
    all.sort(null);
    assertEquals(TotalsJob.expectedOutput(EVENTS), all, "savepoint + resumed run on " + target);
  }

  /**
   * Faults on one request in 25 all along (503 SlowDown, 500, resets, stalls past the attempt
   * timeout, bodies cut short), and one outage of 2 s where every request gets 503.
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(value = StoreTarget.class, names = {"S3PROXY", "LOCALSTACK"})
  void faultsAbortCheckpointsButTheJobGoesOnAndLosesNothing(StoreTarget target)
      throws Exception {
    ProxiedBucket s3 = proxiedBucket(target);
    FaultProxy proxy = s3.proxy();
    S3ObjectStore objects = s3.objects();
    S3ObjectStore direct = s3.direct();
    String secret = targets.server(target).secretKey();
    try (SecretLogWatch logs = new SecretLogWatch(secret)) {
      EmbeddedCluster cluster = cluster(objects);
      JobDefinition definition = register(cluster, "faulty", objects, 2,
          every(200).withTimeout(Duration.ofSeconds(1)),
          RestartStrategy.fixedDelay(100, Duration.ofMillis(100)), 40_000);
      proxy.plan(rotatingFaults(25));
      JobController job = cluster.coordinator().submit("faulty", null, Map.of());
      awaitCheckpoint(job, 1);
      Thread.sleep(1_000);

      CheckpointMetadata valid = job.latestCheckpoint().get();
      JobStatus before = job.status().get();
      proxy.plan(line -> new Fault.Status(503, "SlowDown"));
      Thread.sleep(2_000);
      JobStatus during = job.status().get();
      assertTrue(during.abortedCheckpoints() + during.restarts()
          > before.abortedCheckpoints() + before.restarts(), "the outage went unnoticed: "
          + during);
      // The checkpoint before the outage is whole: its metadata and every file it names.
      String validKey = CheckpointStorage.checkpointKey("faulty", valid.checkpointId());
      assertEquals(valid, CheckpointMetadata.parse(validKey, direct.get(validKey).join()));
      for (String object : objectsOf(valid)) {
        assertTrue(direct.head(object).join().isPresent(), object + " of " + validKey);
      }

      proxy.plan(rotatingFaults(25));
      Thread.sleep(1_000);
      proxy.plan(line -> FaultProxy.PASS);
      JobStatus end = await(job);
      assertEquals(JobState.FINISHED, end.state(), String.valueOf(end));
      assertEquals(TotalsJob.expectedOutput(EVENTS), TotalsJob.committedOutput(definition));

      for (Class<? extends Fault> kind : List.of(Fault.Status.class, Fault.Reset.class,
          Fault.Stall.class, Fault.ShortBody.class)) {
        assertTrue(proxy.injected(kind) > 0, kind.getSimpleName() + " was never injected");
      }
      assertTrue(logs.events() > 0, "the log watch saw nothing");
      assertEquals(List.of(), logs.leaks(), "the secret key was logged");
      assertFalse(String.valueOf(end).contains(secret), "the secret is in the job's status");
    }
  }

  /**
   * A commit that fails after the next checkpoint completed: GETs of the staged output time out
   * until a commit has failed (each commit retries for seconds, while checkpoints every 200 ms
   * complete), so the restart restores from a checkpoint later than the one whose commit
   * failed. That one's output must still be committed, though its records are counted in the
   * state the restart restores: later checkpoints list it again.
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(value = StoreTarget.class, names = {"S3PROXY", "LOCALSTACK"})
  void outputWhoseCommitFailsAfterTheNextCheckpointCompletedIsNotLost(StoreTarget target)
      throws Exception {
    ProxiedBucket s3 = proxiedBucket(target);
    EmbeddedCluster cluster = cluster(s3.objects());
    JobDefinition definition = register(cluster, "late-commit", s3.objects(), 2, every(200),
        RestartStrategy.fixedDelay(100, Duration.ofMillis(100)), 40_000);
    JobController job = cluster.coordinator().submit("late-commit", null, Map.of());
    awaitCheckpoint(job, 1);
    // Held past the attempt timeout: each commit retries for seconds before it fails.
    s3.proxy().plan(line -> line.startsWith("GET") && line.contains("/.pending/")
        ? new Fault.Stall(1_500) : FaultProxy.PASS);
    Pattern failed = Pattern.compile("committing the output of checkpoint (\\d+) failed");
    long[] failedAndLatest = new long[2];
    Awaitility.await("a commit to fail").atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(20)).until(() -> {
          Matcher m = failed.matcher(String.valueOf(job.status().get().lastFailure()));
          if (!m.find()) {
            return false;
          }
          failedAndLatest[0] = Long.parseLong(m.group(1));
          failedAndLatest[1] = job.latestCheckpoint().get().checkpointId();
          return true;
        });
    s3.proxy().plan(line -> FaultProxy.PASS);
    assertTrue(failedAndLatest[1] > failedAndLatest[0], "checkpoint " + failedAndLatest[1]
        + " completed while the commit of checkpoint " + failedAndLatest[0] + " ran");

    JobStatus end = await(job);
    assertEquals(JobState.FINISHED, end.state(), String.valueOf(end));
    assertEquals(TotalsJob.expectedOutput(EVENTS), TotalsJob.committedOutput(definition));
  }

  /**
   * Every {@code every}-th request gets a fault, the kinds in turn: 503 SlowDown, 500, reset,
   * a stall past the attempt timeout, a body cut short (GETs only; other requests are reset
   * instead). The first GET's body is always cut (most reads hit the cache, so GETs are few).
   */
  private static Function<String, Fault> rotatingFaults(int every) {
    AtomicInteger requests = new AtomicInteger();
    AtomicBoolean cut = new AtomicBoolean();
    return line -> {
      boolean get = line.startsWith("GET");
      if (get && cut.compareAndSet(false, true)) {
        return new Fault.ShortBody();
      }
      int n = requests.incrementAndGet();
      if (n % every != 0) {
        return FaultProxy.PASS;
      }
      return switch ((n / every) % 5) {
        case 0 -> new Fault.Status(503, "SlowDown");
        case 1 -> new Fault.Status(500, "InternalError");
        case 2 -> new Fault.Reset();
        case 3 -> new Fault.Stall(1_500);
        default -> get ? new Fault.ShortBody() : new Fault.Reset();
      };
    };
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = StoreTarget.class, names = {"S3PROXY", "LOCALSTACK"})
  void unreachableS3AtStartFailsNamingTheEndpointAndWritesNothing(StoreTarget target)
      throws Exception {
    ProxiedBucket s3 = proxiedBucket(target);
    FaultProxy proxy = s3.proxy();
    S3ObjectStore objects = s3.objects();
    S3ObjectStore direct = s3.direct();
    String secret = targets.server(target).secretKey();
    EmbeddedCluster cluster = cluster(objects);
    JobDefinition definition = register(cluster, "early", objects, 2, every(200),
        RestartStrategy.fixedDelay(3, Duration.ofMillis(100)), 0);

    proxy.refuseConnections();
    JobStatus failed = await(cluster.coordinator().submit("early", null, Map.of()));
    assertEquals(JobState.FAILED, failed.state(), String.valueOf(failed));
    String endpoint = proxy.endpoint().getHost() + ":" + proxy.endpoint().getPort();
    assertTrue(failed.lastFailure().contains(endpoint), failed.lastFailure());
    assertTrue(failed.lastFailure().contains("does not answer"), failed.lastFailure());
    assertFalse(failed.lastFailure().contains(secret));
    assertEquals(0, failed.restarts(), "a job that cannot reach its bucket must not restart");
    assertEquals(List.of(), failed.tasks(), "no task may run");

    proxy.acceptConnections();
    assertEquals(List.of(CoordinatorLease.KEY), direct.list("").join().stream()
        .map(ObjectInfo::key).toList(), "objects beside the coordinator's lease (written "
        + "before the outage) were written while S3 was unreachable");
    JobStatus end = await(cluster.coordinator().submit("early", null, Map.of()));
    assertEquals(JobState.FINISHED, end.state(), String.valueOf(end));
    assertEquals(TotalsJob.expectedOutput(EVENTS), TotalsJob.committedOutput(definition));
  }

  /**
   * Conditional writes of {@code _metadata} whose responses are lost (the proxy holds them past
   * the client's attempt timeout, after the server has stored the object): a retry that finds
   * its own object completes the checkpoint; a write that gives up removes what it left.
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(value = StoreTarget.class, names = {"S3PROXY", "LOCALSTACK"})
  void metadataWritesWhoseResponsesAreLostNeitherAbortNorLeaveObjects(StoreTarget target)
      throws Exception {
    ProxiedBucket s3 = proxiedBucket(target);
    FaultProxy proxy = s3.proxy();
    CheckpointStorage storage = new CheckpointStorage(s3.objects());
    S3ObjectStore direct = s3.direct();
    CheckpointMetadata first = new CheckpointMetadata("lost", 1, CheckpointMetadata.CHECKPOINT,
        1L, "disaggregated", 64, List.of(), List.of(), List.of("out/part-1"));
    CheckpointMetadata second = new CheckpointMetadata("lost", 2, CheckpointMetadata.CHECKPOINT,
        2L, "disaggregated", 64, List.of(), List.of(), List.of("out/part-2"));

    proxy.plan(FaultProxy.firstN(1, new Fault.Stall(1_500)));
    String key = storage.write(first, null).get(30, TimeUnit.SECONDS);
    assertEquals(CheckpointStorage.checkpointKey("lost", 1), key);
    assertEquals(first, CheckpointMetadata.parse(key, direct.get(key).join()));

    proxy.plan(line -> line.startsWith("PUT") ? new Fault.Stall(1_500) : FaultProxy.PASS);
    ExecutionException failed = assertThrows(ExecutionException.class,
        () -> storage.write(second, null).get(60, TimeUnit.SECONDS));
    String secondKey = CheckpointStorage.checkpointKey("lost", 2);
    assertTrue(String.valueOf(failed.getCause()).contains(secondKey), failed.toString());
    assertEquals(Optional.empty(), direct.head(secondKey).join(),
        "the failed write left its _metadata behind");
    assertTrue(proxy.injected(Fault.Stall.class) >= 2);
  }

  /**
   * Two jobs with their own coordinators share a bucket under the prefixes {@code job-a/} and
   * {@code job-b/}, each through its own recording proxy, with GC retiring checkpoints as they
   * run. Every request of each names only keys under its own prefix, and both outputs are exact.
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(value = StoreTarget.class, names = {"S3PROXY", "LOCALSTACK"})
  void twoJobsSharingABucketNeverTouchEachOthersObjects(StoreTarget target) throws Exception {
    String bucket = targets.freshBucket(target);
    Map<String, FaultProxy> proxyOf = Map.of("job-a", proxy(target), "job-b", proxy(target));
    List<JobDefinition> definitions = new ArrayList<>();
    List<JobController> jobs = new ArrayList<>();
    for (String prefix : List.of("job-a", "job-b")) {
      S3ObjectStore objects = storeThrough(target, proxyOf.get(prefix), bucket, prefix);
      EmbeddedCluster cluster = cluster(objects);
      // Same job name on purpose: only the prefix keeps the two apart.
      definitions.add(register(cluster, "totals", objects, 2,
          every(100).withRetained(1), RestartStrategy.none(), 40_000));
      jobs.add(cluster.coordinator().submit("totals", null, Map.of()));
    }
    for (JobController job : jobs) {
      JobStatus end = await(job);
      assertEquals(JobState.FINISHED, end.state(), String.valueOf(end));
      assertTrue(end.completedCheckpoints() > 2, "GC retired nothing: " + end);
    }
    List<String> expected = TotalsJob.expectedOutput(EVENTS);
    for (JobDefinition definition : definitions) {
      assertEquals(expected, TotalsJob.committedOutput(definition));
    }

    for (String prefix : List.of("job-a", "job-b")) {
      List<String> requests = proxyOf.get(prefix).requests();
      int deletes = 0;
      for (String request : requests) {
        if (request.startsWith("<")) {
          Matcher keys = Pattern.compile("<Key>([^<]*)</Key>").matcher(request);
          while (keys.find()) {
            deletes++;
            assertTrue(keys.group(1).startsWith(prefix + "/"), prefix + " deleted "
                + keys.group(1));
          }
        } else {
          assertTrue(addressesOnly(request, bucket, prefix), prefix + " sent " + request);
        }
      }
      assertTrue(deletes > 0, prefix + " deleted nothing: GC did not run");
    }
    for (ObjectInfo object : direct(target, bucket).list("").join()) {
      assertTrue(object.key().startsWith("job-a/") || object.key().startsWith("job-b/"),
          object.key());
    }
  }

  /**
   * Whether an S3 request line addresses only keys under {@code prefix}: an object path under
   * it, or a bucket-level request (listing, batched delete) whose prefix parameter is under it
   * or that names its keys in its body (checked separately).
   */
  private static boolean addressesOnly(String requestLine, String bucket, String prefix) {
    String target = requestLine.split(" ")[1];
    if (target.startsWith("/" + bucket + "/" + prefix + "/")) {
      return true;
    }
    String query = target.contains("?") ? target.substring(target.indexOf('?') + 1) : "";
    if (!target.startsWith("/" + bucket + "?") && !target.startsWith("/" + bucket + "/?")) {
      return false;
    }
    if (query.startsWith("delete")) {
      return true;
    }
    for (String parameter : query.split("&")) {
      if (parameter.startsWith("prefix=")) {
        String value = URLDecoder.decode(parameter.substring(7), StandardCharsets.UTF_8);
        return value.startsWith(prefix + "/");
      }
    }
    return false;
  }
}
