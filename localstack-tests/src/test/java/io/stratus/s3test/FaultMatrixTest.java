package io.stratus.s3test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.s3test.FaultProxy.Fault;
import io.stratus.store.objectstore.ObjectInfo;
import io.stratus.store.objectstore.ObjectStore;
import io.stratus.store.objectstore.ObjectStoreException;
import io.stratus.store.objectstore.RetryPolicy;
import io.stratus.store.objectstore.S3ObjectStore;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;

/**
 * The S3 object store through a fault-injecting TCP proxy in front of S3Proxy and LocalStack
 * (where Docker exists): for each fault,
 * the store's retries carry writes, full and ranged reads and listings through, and the data is
 * intact; a fault that never ends fails with an error that names the operation and never the
 * secret key.
 */
class FaultMatrixTest {

  @RegisterExtension
  static final StoreTargets targets = new StoreTargets();
  private FaultProxy proxy;

  @AfterEach
  void closeProxy() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
  }

  /** A store on a fresh bucket of {@code target}, reached through a new fault proxy. */
  private S3ObjectStore storeBehindProxy(StoreTarget target) throws Exception {
    String bucket = targets.freshBucket(target);
    proxy = new FaultProxy(targets.server(target).endpoint());
    return targets.open(targets.config(target, proxy.endpoint(), bucket)
        .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(1))
        .withRetry(new RetryPolicy(6, Duration.ofMillis(20), Duration.ofMillis(200))));
  }

  /** Target × fault; each row gets its own (stateful) plan. */
  static Stream<Arguments> faults() {
    return Stream.of(StoreTarget.S3PROXY, StoreTarget.LOCALSTACK).flatMap(target -> Stream.of(
        Arguments.of(target, "503 SlowDown burst",
            FaultProxy.firstN(3, new Fault.Status(503, "SlowDown")), Fault.Status.class),
        Arguments.of(target, "500 InternalError",
            FaultProxy.firstN(2, new Fault.Status(500, "InternalError")), Fault.Status.class),
        Arguments.of(target, "connection reset", FaultProxy.firstN(2, new Fault.Reset()),
            Fault.Reset.class),
        Arguments.of(target, "stalled response", FaultProxy.firstN(1, new Fault.Stall(2_500)),
            Fault.Stall.class),
        Arguments.of(target, "body cut short", shortGets(2), Fault.ShortBody.class)));
  }

  /** Cuts the bodies of the first {@code n} GET responses short. */
  private static Function<String, Fault> shortGets(int n) {
    AtomicInteger left = new AtomicInteger(n);
    return line -> line.startsWith("GET") && left.getAndDecrement() > 0 ? new Fault.ShortBody()
        : FaultProxy.PASS;
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("faults")
  void retriesCarryEveryOperationThroughAndTheDataIsIntact(StoreTarget target, String name,
      Function<String, Fault> plan, Class<? extends Fault> kind) throws Exception {
    S3ObjectStore store = storeBehindProxy(target);
    byte[] data = new byte[300_000];
    new Random(name.hashCode()).nextBytes(data);
    String key = "matrix/" + name.replace(' ', '-');
    proxy.plan(plan);
    store.put(key, data).join();
    assertArrayEquals(data, store.get(key).join(), name + ": full read");
    assertArrayEquals(Arrays.copyOfRange(data, 1_001, 1_001 + 77_777),
        store.getRange(key, 1_001, 77_777).join(), name + ": ranged read at an odd offset");
    List<ObjectInfo> listed = store.list("matrix/").join();
    assertTrue(listed.stream().anyMatch(o -> o.key().equals(key) && o.size() == data.length),
        name + ": listing " + listed);
    assertTrue(proxy.injected(kind) >= 1, name + ": the fault was never injected");
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("faults")
  void aFaultThatNeverEndsFailsNamingTheOperationAndNeverTheSecret(StoreTarget target,
      String name, Function<String, Fault> ignored, Class<? extends Fault> kind)
      throws Exception {
    S3ObjectStore store = storeBehindProxy(target);
    String secret = targets.server(target).secretKey();
    Fault always = kind == Fault.Status.class ? new Fault.Status(503, "SlowDown")
        : kind == Fault.Reset.class ? new Fault.Reset()
        : kind == Fault.Stall.class ? new Fault.Stall(2_500) : new Fault.ShortBody();
    store.put("never/" + kind.getSimpleName(), new byte[1000]).join();
    proxy.plan(line -> always);
    CompletionException e = assertThrows(CompletionException.class,
        () -> store.get("never/" + kind.getSimpleName()).join());
    Throwable cause = e.getCause();
    assertInstanceOf(ObjectStoreException.class, cause, name);
    String message = String.valueOf(cause.getMessage());
    assertTrue(message.contains("never/" + kind.getSimpleName()), message);
    for (Throwable t = cause; t != null; t = t.getCause()) {
      assertFalse(String.valueOf(t.getMessage()).contains(secret),
          "the secret key leaked: " + t);
    }
    assertFalse(e.toString().contains(secret));
    assertEquals(6, proxy.injected(always.getClass()), name + ": attempts");
  }

  static Stream<StoreTarget> targets() {
    return Stream.of(StoreTarget.S3PROXY, StoreTarget.LOCALSTACK);
  }

  /** A lease holder's write after its lease ran out: not sent at all. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("targets")
  void aWritePastItsDeadlineIsNeverSent(StoreTarget target) throws Exception {
    S3ObjectStore store = storeBehindProxy(target);
    ObjectStore late = store.until(System.nanoTime() - 1);
    int before = proxy.requests().size();
    for (CompletableFuture<?> write : List.of(late.put("late/a", new byte[10]),
        late.putIfAbsent("late/b", new byte[10]), late.delete(List.of("late/c")))) {
      CompletionException e = assertThrows(CompletionException.class, write::join);
      assertTrue(e.getCause().getMessage().contains("deadline passed"), e.toString());
    }
    assertEquals(before, proxy.requests().size(), "requests sent: " + proxy.requests());
    assertTrue(store.list("late/").join().isEmpty());
  }

  /**
   * A write whose answer does not come before its deadline is aborted at the deadline, not at
   * the attempt timeout, and not retried after it.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("targets")
  void aStalledWriteEndsAtItsDeadlineAndIsNotRetried(StoreTarget target) throws Exception {
    S3ObjectStore store = storeBehindProxy(target);
    proxy.plan(line -> line.startsWith("PUT") ? new Fault.Stall(5_000) : FaultProxy.PASS);
    CompletableFuture<Void> write = store.until(System.nanoTime()
        + TimeUnit.MILLISECONDS.toNanos(300)).put("stalled", new byte[1000]);
    CompletionException e = assertThrows(CompletionException.class, write::join);
    assertTrue(e.getCause().getMessage().contains("not retried: its deadline passed"),
        e.toString());
    // Aborted by the call's deadline, not by the 1 s attempt timeout.
    assertInstanceOf(ApiCallTimeoutException.class, e.getCause().getCause(), e.toString());
    assertEquals(1, proxy.requests().stream().filter(r -> r.startsWith("PUT")).count(),
        "PUTs sent: " + proxy.requests());
  }
}
