package io.stratus.runtime.execution;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.stratus.runtime.serde.Serde;
import io.stratus.runtime.serde.Serdes;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Barrier alignment of a task with two input channels, fed element by element: what goes out
 * before each barrier is exactly what came in before it on every channel.
 */
class StreamTaskAlignmentTest {

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() {
    vertx.close().toCompletionStage().toCompletableFuture().join();
  }

  /** What the task emitted and where each barrier fell, in order. */
  private static final class Recording extends TaskOutput {
    final List<String> events = Collections.synchronizedList(new ArrayList<>());

    @Override
    void emit(Object value, long timestamp) {
      events.add("record " + value);
    }

    @Override
    CompletableFuture<List<String>> barrier(long checkpointId) {
      events.add("barrier " + checkpointId);
      return CompletableFuture.completedFuture(List.of());
    }
  }

  private static final class Events implements TaskEvents {
    final List<String> reports = Collections.synchronizedList(new ArrayList<>());
    final CompletableFuture<Void> finished = new CompletableFuture<>();

    @Override
    public void snapshotTaken(TaskSpec task, long checkpointId, TaskSnapshot snapshot) {
      reports.add("taken " + checkpointId);
    }

    @Override
    public void snapshotFailed(TaskSpec task, long checkpointId, Throwable error,
        List<String> staged) {
      reports.add("failed " + checkpointId);
    }

    @Override
    public void firstRecordProcessed(TaskSpec task) {}

    @Override
    public void taskFailed(TaskSpec task, Throwable error) {
      finished.completeExceptionally(error);
    }

    @Override
    public void taskFinished(TaskSpec task, Map<String, Long> sourcePosition,
        List<String> committables) {
      finished.complete(null);
    }
  }

  private static StreamElement.Record record(int channel, long value) {
    return new StreamElement.Record(channel, Serdes.LONG.toBytes(value), value, null, -1);
  }

  private List<String> run(List<StreamElement> input, Events events) throws Exception {
    TaskInbox inbox = new TaskInbox(1_000);
    input.forEach(inbox::offer);
    Recording out = new Recording();
    Serde<?>[] serdes = {Serdes.LONG, Serdes.LONG};
    StreamTask task = new StreamTask(new TaskSpec("j", 1, 1, 0, 1, null, null, List.of(), null),
        "t[0/1]", vertx.getOrCreateContext(), inbox, new InputSerdes(serdes, new Serde<?>[2]),
        new ChainHead(out), out, events);
    task.start();
    events.finished.get(30, TimeUnit.SECONDS);
    return out.events;
  }

  @Test
  void aBarrierThatOvertakesAnAlignmentLetsTheHeldRecordsGoFirst() throws Exception {
    Events events = new Events();
    List<String> out = run(List.of(
        new StreamElement.Barrier(0, 5), record(0, 1), record(0, 2),
        // Checkpoint 5 never completes on channel 1 (it timed out upstream); 6 overtakes it.
        new StreamElement.Barrier(0, 6), record(0, 4), record(1, 3),
        new StreamElement.Barrier(1, 6), new StreamElement.End(0), new StreamElement.End(1)),
        events);
    assertEquals(List.of("record 1", "record 2", "record 3", "barrier 6", "record 4"), out);
    assertEquals(List.of("failed 5", "taken 6"), events.reports);
  }

  @Test
  void recordsAfterABarrierWaitForTheBarrierOnEveryOtherChannel() throws Exception {
    Events events = new Events();
    List<String> out = run(List.of(
        record(0, 1), new StreamElement.Barrier(0, 7), record(0, 2), record(1, 3),
        new StreamElement.Barrier(1, 7), record(1, 4), new StreamElement.End(0),
        new StreamElement.End(1)), events);
    assertEquals(List.of("record 1", "record 3", "barrier 7", "record 2", "record 4"), out);
    assertEquals(List.of("taken 7"), events.reports);
  }

  @Test
  void anEndedChannelCountsAsAligned() throws Exception {
    Events events = new Events();
    List<String> out = run(List.of(
        new StreamElement.End(1), record(0, 1), new StreamElement.Barrier(0, 3), record(0, 2),
        new StreamElement.End(0)), events);
    assertEquals(List.of("record 1", "barrier 3", "record 2"), out);
    assertEquals(List.of("taken 3"), events.reports);
  }
}
