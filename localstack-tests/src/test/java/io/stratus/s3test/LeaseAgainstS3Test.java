package io.stratus.s3test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.scheduler.lease.CoordinatorLease;
import io.stratus.scheduler.lease.LeaseConfig;
import io.stratus.scheduler.lease.LeaseHeldException;
import io.stratus.scheduler.lease.LeaseHolder;
import io.stratus.store.objectstore.ObjectStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The coordinator's lease on every target. S3Proxy's compare-and-swap is not atomic
 * (ObjectStoreContractTest says so); the lease must still have exactly one holder there.
 */
class LeaseAgainstS3Test {

  @RegisterExtension
  static final StoreTargets targets = new StoreTargets();

  private static final LeaseConfig CONFIG = new LeaseConfig(Duration.ofSeconds(3),
      Duration.ofMillis(400));

  @TempDir
  Path dir;

  @ParameterizedTest(name = "{0}")
  @EnumSource(StoreTarget.class)
  void racingCoordinatorsHaveExactlyOneHolderEveryRound(StoreTarget target) {
    ObjectStore objects = targets.open(target, dir);
    long expectedEpoch = 1;
    for (int round = 0; round < 5; round++) {
      List<CompletableFuture<CoordinatorLease>> contenders = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        contenders.add(CoordinatorLease.acquire(objects, CONFIG,
            LeaseHolder.thisProcess("round " + round + " contender " + i)));
      }
      List<CoordinatorLease> holders = new ArrayList<>();
      for (CompletableFuture<CoordinatorLease> c : contenders) {
        try {
          holders.add(c.orTimeout(60, TimeUnit.SECONDS).join());
        } catch (CompletionException e) {
          assertInstanceOf(LeaseHeldException.class, e.getCause(), "round " + round);
        }
      }
      assertEquals(1, holders.size(), "round " + round + ": holders");
      CoordinatorLease holder = holders.get(0);
      assertTrue(holder.epoch() >= expectedEpoch, "epochs never go back");
      expectedEpoch = holder.epoch() + 1;
      holder.close();
    }
  }
}
