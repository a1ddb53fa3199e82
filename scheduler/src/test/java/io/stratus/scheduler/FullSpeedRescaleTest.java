package io.stratus.scheduler;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.stratus.cache.BlockCacheConfig;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.vertx.core.VertxOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Rescales a job whose source is not held back, so its stores take writes as fast as the
 * machine allows while checkpoints (every 200 ms) and rescales halt and move it: every rescale
 * is answered, the output equals an uninterrupted run's, and no event loop is held longer than
 * 200 ms (Vert.x's blocked-thread checker, set to that limit, reports none).
 */
class FullSpeedRescaleTest {

  private static final long EVENTS = 800_000;
  private static final String CHECKER = "io.vertx.core.impl.BlockedThreadChecker";

  @TempDir
  Path dir;

  private EmbeddedCluster cluster;
  private final ListAppender<ILoggingEvent> blocked = new ListAppender<>();

  @BeforeEach
  void watchEventLoops() {
    Logger checker = (Logger) LoggerFactory.getLogger(CHECKER);
    checker.setLevel(Level.WARN);
    blocked.start();
    checker.addAppender(blocked);
  }

  @AfterEach
  void stop() {
    ((Logger) LoggerFactory.getLogger(CHECKER)).detachAppender(blocked);
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void rescalesAtFullSpeedAreAllAnsweredLoseNothingAndNeverHoldAnEventLoop() throws Exception {
    LocalDirectoryObjectStore objects = new LocalDirectoryObjectStore(dir.resolve("bucket"));
    VertxOptions vertx = new VertxOptions()
        .setMaxEventLoopExecuteTime(200).setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS)
        .setBlockedThreadCheckInterval(50).setBlockedThreadCheckIntervalUnit(TimeUnit.MILLISECONDS)
        .setWarningExceptionTime(200).setWarningExceptionTimeUnit(TimeUnit.MILLISECONDS);
    cluster = new EmbeddedCluster(objects, 3, BlockCacheConfig.memoryOnly(8 << 20),
        Duration.ofMillis(100), vertx);
    cluster.catalog().register(TotalsJob.definition("fast", objects, "out/fast",
        dir.resolve("local"), 2, EVENTS, CheckpointConfig.defaults()
            .withInterval(Duration.ofMillis(200)).withRetained(2), RestartStrategy.none()));
    JobController job = cluster.coordinator().submit("fast", null, Map.of());
    await().atMost(Duration.ofSeconds(30))
        .until(() -> job.status().get().state() == JobState.RUNNING);
    int answered = 0;
    for (int p : new int[] {4, 2, 3}) {
      // Writes at full speed between rescales: 20,000 more records first.
      long before = job.status().get().recordsIn();
      await().atMost(Duration.ofSeconds(30)).until(() -> {
        JobStatus s = job.status().get();
        return s.recordsIn() > before + 20_000 || s.state() != JobState.RUNNING;
      });
      if (job.status().get().state() != JobState.RUNNING) {
        break;
      }
      RescaleReport r = job.rescale(Map.of(TotalsJob.OPERATOR, p)).get(30, TimeUnit.SECONDS);
      assertEquals(Map.of(TotalsJob.OPERATOR, p), r.to(), String.valueOf(r));
      answered++;
    }
    assertTrue(answered >= 2, "the input ran out after " + answered + " rescale(s)");
    JobStatus end = job.result().get(120, TimeUnit.SECONDS);
    assertEquals(JobState.FINISHED, end.state(), String.valueOf(end));
    assertEquals(0, end.restarts(), "a rescale is not a restart");
    assertEquals(TotalsJob.expectedOutput(EVENTS),
        TotalsJob.committedOutput(cluster.catalog().get("fast")));
    List<String> reports = blocked.list.stream().map(ILoggingEvent::getFormattedMessage)
        .toList();
    assertEquals(List.of(), reports, "an event loop was blocked for more than 200 ms");
  }
}
