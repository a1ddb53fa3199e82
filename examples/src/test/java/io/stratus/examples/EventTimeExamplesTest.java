package io.stratus.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.api.DataStream;
import io.stratus.runtime.api.ProcessedStream;
import io.stratus.runtime.api.StreamEnvironment;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.sink.CollectingSink;
import io.stratus.runtime.source.CollectionSource;
import io.stratus.runtime.source.Payment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The documented event-time examples, on hand-made input with hand-computed output. */
class EventTimeExamplesTest {

  private static final long MINUTE = 60_000;

  @TempDir
  Path dir;

  private static Payment pay(long id, long user, long minute, long cents) {
    return new Payment(id, user, cents, "shop", minute * MINUTE);
  }

  /**
   * Runs {@code job} over {@code input} (one split, one record per batch, so each record is
   * followed by its watermark); returns the output in order and the late payments' ids.
   */
  private <T> List<List<String>> run(List<Payment> input,
      Function<DataStream<Payment>, ProcessedStream<T>> job) {
    CollectingSink<T> out = new CollectingSink<>();
    CollectingSink<Payment> late = new CollectingSink<>();
    RuntimeConfig config = RuntimeConfig.defaults().withParallelism(1).withSourceBatch(1)
        .withLocalStateDirectory(dir.resolve("rocksdb"));
    try (StreamEnvironment env = StreamEnvironment.local(config)) {
      job.apply(env.fromSource(new CollectionSource<>(input, Payment::timestamp),
              WatermarkStrategy.forMonotonousTimestamps(), "payments", 1))
          .sideOutputTo(EventTimeExamples.LATE_PAYMENTS, late)
          .sinkTo(out);
      env.execute("example").join();
    }
    List<String> lateIds = new ArrayList<>();
    late.records().forEach(p -> lateIds.add(String.valueOf(p.id())));
    return List.of(out.records().stream().map(String::valueOf).toList(), lateIds);
  }

  /**
   * Hour 0 is billed when 01:05 arrives; 00:55 is 5 minutes late (within 10): hour 0 is billed
   * again; 01:20 ends hour 0's lateness, so 00:30 is late; hour 1 is billed at the end.
   */
  @Test
  void hourlyBillingCorrectsLateHoursAndSetsTooLatePaymentsAside() {
    List<List<String>> result = run(List.of(pay(1, 1, 10, 100), pay(2, 1, 50, 200),
            pay(3, 1, 65, 50), pay(4, 1, 55, 50), pay(5, 1, 80, 25), pay(6, 1, 30, 999)),
        EventTimeExamples::hourlyBilling);
    assertEquals(List.of("1,0,2,300", "1,0,3,350", "1,3600000,2,75"), result.get(0));
    assertEquals(List.of("6"), result.get(1));
  }

  @Test
  void deduplicationPassesTheFirstPaymentOfEachId() {
    List<List<String>> result = run(List.of(pay(1, 1, 0, 10), pay(2, 1, 1, 20),
            pay(1, 1, 2, 10), pay(3, 2, 3, 30), pay(2, 1, 4, 20)),
        payments -> EventTimeExamples.deduplicate(payments, Duration.ofHours(1)));
    assertEquals(List.of("1", "2", "3"),
        result.get(0).stream().map(s -> s.substring(s.indexOf("id=") + 3, s.indexOf(',')))
            .toList());
  }

  /** User 7: 00:00, 00:20, 00:45 are one session (gaps under 30 min), 02:00 another. */
  @Test
  void sessionsCloseThirtyMinutesAfterTheLastPayment() {
    List<List<String>> result = run(List.of(pay(1, 7, 0, 1), pay(2, 8, 10, 1), pay(3, 7, 20, 1),
            pay(4, 7, 45, 1), pay(5, 7, 120, 1)),
        EventTimeExamples::sessions);
    assertEquals(List.of("8,600000,2400000,1", "7,0,4500000,3", "7,7200000,9000000,1"),
        result.get(0));
  }
}
