package io.stratus.runtime.execution;

import io.stratus.runtime.functions.FilterFunction;
import io.stratus.runtime.functions.FlatMapFunction;
import io.stratus.runtime.functions.KeySelector;
import io.stratus.runtime.functions.MapFunction;
import io.stratus.runtime.functions.ProcessFunction;
import io.stratus.runtime.graph.JobGraph;
import io.stratus.runtime.serde.Serde;
import io.stratus.runtime.sink.SinkWriter;
import io.stratus.store.keygroup.KeyGroups;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Where records go from an operator of a task: the operators chained after it (map, filter,
 * flatMap, process, sinks: called in the same task, with references), possibly several of them
 * (a branch, {@link Fanout}), ending in sink writers and in {@link Exchange}s, which serialize
 * each record with its edge's serde and hand the bytes to the next tasks' inboxes. Barriers,
 * watermarks, idleness and the end of input follow every path, in order with the records.
 */
abstract class TaskOutput {

  /** Passes a record on; user-function exceptions propagate to the task. */
  abstract void emit(Object value, long timestamp) throws Exception;

  /** Opens the chained operators' functions (once per task, before the first record). */
  void open(int subtask, int parallelism) throws Exception {}

  /** Whether the task may take more input without overfilling downstream inboxes. */
  boolean hasSpace() {
    return true;
  }

  /** Runs {@code resume} once downstream has room. */
  void whenSpace(Runnable resume) {
    resume.run();
  }

  void watermark(long timestamp) {}

  /** This task went idle (nothing to emit for a while) or active again. */
  void watermarkStatus(boolean idle) {}

  /**
   * Checkpoint {@code checkpointId} has reached this task: pass the barrier on, and stage what
   * the sinks on the way wrote since the last checkpoint.
   *
   * @return the sinks' committables, once staged
   */
  CompletableFuture<List<String>> barrier(long checkpointId) {
    return CompletableFuture.completedFuture(List.of());
  }

  /** The input has ended: stage the sinks' last output. */
  CompletableFuture<List<String>> stageFinal() {
    return CompletableFuture.completedFuture(List.of());
  }

  /** The task's input has ended and all its output was emitted: close and pass the end on. */
  void end() throws Exception {}

  /**
   * {@code main} plus the writers of a keyed operator's side outputs (by tag id): barriers and
   * the end of input stage and close them too; their committables carry
   * {@link JobGraph#SIDE_OUTPUT}, the operator uid and the tag id, so the coordinator commits
   * them to their sink.
   */
  static TaskOutput withSideOutputs(TaskOutput main, String uid,
      Map<String, SinkWriter<?>> sideOutputs) {
    if (sideOutputs.isEmpty()) {
      return main;
    }
    return new Step(main) {
      @Override
      void emit(Object value, long timestamp) throws Exception {
        main.emit(value, timestamp);
      }

      @Override
      CompletableFuture<List<String>> barrier(long checkpointId) {
        return withSides(main.barrier(checkpointId), checkpointId);
      }

      @Override
      CompletableFuture<List<String>> stageFinal() {
        return withSides(main.stageFinal(), Long.MAX_VALUE);
      }

      private CompletableFuture<List<String>> withSides(CompletableFuture<List<String>> first,
          long checkpointId) {
        List<CompletableFuture<List<String>>> parts = new ArrayList<>();
        parts.add(first);
        sideOutputs.forEach((tag, writer) -> parts.add(writer.prepareCommit(checkpointId)
            .thenApply(list -> list.stream()
                .map(c -> JobGraph.SIDE_OUTPUT + uid + "/" + tag + "|" + c).toList())));
        return concat(parts);
      }

      @Override
      void end() throws Exception {
        main.end();
        for (SinkWriter<?> writer : sideOutputs.values()) {
          writer.close();
        }
      }
    };
  }

  /** The committables of every part, in order. */
  static CompletableFuture<List<String>> concat(List<CompletableFuture<List<String>>> parts) {
    return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenApply(v -> {
      List<String> all = new ArrayList<>();
      parts.forEach(p -> all.addAll(p.join()));
      return all;
    });
  }

  /** An operator chained in front of {@code next}: forwards flow control and events. */
  abstract static class Step extends TaskOutput {
    final TaskOutput next;

    Step(TaskOutput next) {
      this.next = next;
    }

    @Override
    void open(int subtask, int parallelism) throws Exception {
      next.open(subtask, parallelism);
    }

    @Override
    boolean hasSpace() {
      return next.hasSpace();
    }

    @Override
    void whenSpace(Runnable resume) {
      next.whenSpace(resume);
    }

    @Override
    void watermark(long timestamp) {
      next.watermark(timestamp);
    }

    @Override
    void watermarkStatus(boolean idle) {
      next.watermarkStatus(idle);
    }

    @Override
    CompletableFuture<List<String>> barrier(long checkpointId) {
      return next.barrier(checkpointId);
    }

    @Override
    CompletableFuture<List<String>> stageFinal() {
      return next.stageFinal();
    }

    @Override
    void end() throws Exception {
      next.end();
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  static final class MapStep extends Step {
    private final MapFunction function;

    MapStep(MapFunction<?, ?> function, TaskOutput next) {
      super(next);
      this.function = function;
    }

    @Override
    void emit(Object value, long timestamp) throws Exception {
      next.emit(function.map(value), timestamp);
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  static final class FilterStep extends Step {
    private final FilterFunction function;

    FilterStep(FilterFunction<?> function, TaskOutput next) {
      super(next);
      this.function = function;
    }

    @Override
    void emit(Object value, long timestamp) throws Exception {
      if (function.filter(value)) {
        next.emit(value, timestamp);
      }
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  static final class FlatMapStep extends Step {
    private final FlatMapFunction function;

    FlatMapStep(FlatMapFunction<?, ?> function, TaskOutput next) {
      super(next);
      this.function = function;
    }

    @Override
    void emit(Object value, long timestamp) throws Exception {
      Exception[] failure = {null};
      function.flatMap(value, record -> {
        if (failure[0] == null) {
          try {
            next.emit(record, timestamp);
          } catch (Exception e) {
            failure[0] = e;
          }
        }
      });
      if (failure[0] != null) {
        throw failure[0];
      }
    }
  }

  /** A non-keyed process function: opened with the task, closed at the end of input. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  static final class ProcessStep extends Step implements ProcessFunction.Context {
    private final ProcessFunction function;
    private long timestamp;
    private long watermark = Long.MIN_VALUE;

    ProcessStep(ProcessFunction<?, ?> function, TaskOutput next) {
      super(next);
      this.function = function;
    }

    @Override
    void open(int subtask, int parallelism) throws Exception {
      function.open(new ProcessFunction.OpenContext() {
        @Override
        public int subtaskIndex() {
          return subtask;
        }

        @Override
        public int parallelism() {
          return parallelism;
        }
      });
      super.open(subtask, parallelism);
    }

    @Override
    void emit(Object value, long ts) throws Exception {
      timestamp = ts;
      Exception[] failure = {null};
      function.processElement(value, this, record -> {
        if (failure[0] == null) {
          try {
            next.emit(record, ts);
          } catch (Exception e) {
            failure[0] = e;
          }
        }
      });
      if (failure[0] != null) {
        throw failure[0];
      }
    }

    @Override
    void watermark(long ts) {
      watermark = ts;
      super.watermark(ts);
    }

    @Override
    public long timestamp() {
      return timestamp;
    }

    @Override
    public long currentWatermark() {
      return watermark;
    }

    @Override
    void end() throws Exception {
      function.close();
      super.end();
    }
  }

  /** Several operators fed by one (a branch): each sees every record and every event. */
  static final class Fanout extends TaskOutput {
    private final List<TaskOutput> targets;

    Fanout(List<TaskOutput> targets) {
      this.targets = List.copyOf(targets);
    }

    @Override
    void emit(Object value, long timestamp) throws Exception {
      for (TaskOutput t : targets) {
        t.emit(value, timestamp);
      }
    }

    @Override
    void open(int subtask, int parallelism) throws Exception {
      for (TaskOutput t : targets) {
        t.open(subtask, parallelism);
      }
    }

    @Override
    boolean hasSpace() {
      for (TaskOutput t : targets) {
        if (!t.hasSpace()) {
          return false;
        }
      }
      return true;
    }

    @Override
    void whenSpace(Runnable resume) {
      for (TaskOutput t : targets) {
        if (!t.hasSpace()) {
          t.whenSpace(resume);
          return;
        }
      }
      resume.run();
    }

    @Override
    void watermark(long timestamp) {
      targets.forEach(t -> t.watermark(timestamp));
    }

    @Override
    void watermarkStatus(boolean idle) {
      targets.forEach(t -> t.watermarkStatus(idle));
    }

    @Override
    CompletableFuture<List<String>> barrier(long checkpointId) {
      List<CompletableFuture<List<String>>> parts = new ArrayList<>();
      targets.forEach(t -> parts.add(t.barrier(checkpointId)));
      return concat(parts);
    }

    @Override
    CompletableFuture<List<String>> stageFinal() {
      List<CompletableFuture<List<String>>> parts = new ArrayList<>();
      targets.forEach(t -> parts.add(t.stageFinal()));
      return concat(parts);
    }

    @Override
    void end() throws Exception {
      for (TaskOutput t : targets) {
        t.end();
      }
    }
  }

  /**
   * Records leaving the task on one edge: serialized with the edge's serde and handed to the
   * consumer tasks' channels (an inbox in this process, or the data plane to another worker)
   * as the edge's partitioning decides. Control events go to every
   * consumer task of the edge.
   */
  abstract static class Exchange extends TaskOutput {
    /** The consumer tasks this task's records may reach, by consumer subtask. */
    final List<ChannelTarget> downstream;
    /** This task's channel in each of those inboxes. */
    final int channel;
    @SuppressWarnings("rawtypes")
    final Serde serde;

    Exchange(List<ChannelTarget> downstream, int channel, Serde<?> serde) {
      this.downstream = downstream;
      this.channel = channel;
      this.serde = serde;
    }

    @SuppressWarnings("unchecked")
    byte[] bytesOf(Object value) {
      return serde.toBytes(value);
    }

    @Override
    boolean hasSpace() {
      for (ChannelTarget inbox : downstream) {
        if (!inbox.hasSpace()) {
          return false;
        }
      }
      return true;
    }

    @Override
    void whenSpace(Runnable resume) {
      for (ChannelTarget inbox : downstream) {
        if (!inbox.hasSpace()) {
          inbox.whenSpace(resume);
          return;
        }
      }
      resume.run();
    }

    @Override
    void watermark(long timestamp) {
      for (ChannelTarget inbox : downstream) {
        inbox.offer(new StreamElement.Watermark(channel, timestamp));
      }
    }

    @Override
    void watermarkStatus(boolean idle) {
      for (ChannelTarget inbox : downstream) {
        inbox.offer(new StreamElement.WatermarkStatus(channel, idle));
      }
    }

    @Override
    CompletableFuture<List<String>> barrier(long checkpointId) {
      for (ChannelTarget inbox : downstream) {
        inbox.offer(new StreamElement.Barrier(channel, checkpointId));
      }
      return CompletableFuture.completedFuture(List.of());
    }

    @Override
    void end() {
      for (ChannelTarget inbox : downstream) {
        inbox.offer(new StreamElement.End(channel));
      }
    }
  }

  /** To the consumer task of this task's own index (one inbox). */
  static final class Forward extends Exchange {
    Forward(ChannelTarget consumer, int channel, Serde<?> serde) {
      super(List.of(consumer), channel, serde);
    }

    @Override
    void emit(Object value, long timestamp) {
      downstream.get(0).offer(new StreamElement.Record(channel, bytesOf(value), timestamp,
          null, -1));
    }
  }

  /** By key group to the consumer task that owns it ({@code keyBy}). */
  static final class Hash extends Exchange {
    @SuppressWarnings("rawtypes")
    private final KeySelector selector;
    @SuppressWarnings("rawtypes")
    private final Serde keySerde;
    private final int maxParallelism;

    Hash(List<ChannelTarget> downstream, int channel, Serde<?> serde, KeySelector<?, ?> selector,
        Serde<?> keySerde, int maxParallelism) {
      super(downstream, channel, serde);
      this.selector = selector;
      this.keySerde = keySerde;
      this.maxParallelism = maxParallelism;
    }

    @Override
    @SuppressWarnings("unchecked")
    void emit(Object value, long timestamp) throws Exception {
      Object key = selector.getKey(value);
      if (key == null) {
        throw new IllegalArgumentException("key selector returned null");
      }
      byte[] keyBytes = keySerde.toBytes(key);
      int keyGroup = KeyGroups.keyGroupOf(keyBytes, maxParallelism);
      int target = KeyGroups.subtaskOf(keyGroup, maxParallelism, downstream.size());
      downstream.get(target).offer(new StreamElement.Record(channel, bytesOf(value), timestamp,
          keyBytes, keyGroup));
    }
  }

  /** Round robin over the consumer tasks, starting at this task's own index. */
  static final class Rebalance extends Exchange {
    private int next;

    Rebalance(List<ChannelTarget> downstream, int channel, Serde<?> serde, int subtask) {
      super(downstream, channel, serde);
      this.next = subtask % downstream.size();
    }

    @Override
    void emit(Object value, long timestamp) {
      downstream.get(next).offer(new StreamElement.Record(channel, bytesOf(value), timestamp,
          null, -1));
      next = next + 1 == downstream.size() ? 0 : next + 1;
    }
  }

  /** To a consumer task chosen uniformly at random. */
  static final class Shuffle extends Exchange {
    Shuffle(List<ChannelTarget> downstream, int channel, Serde<?> serde) {
      super(downstream, channel, serde);
    }

    @Override
    void emit(Object value, long timestamp) {
      downstream.get(ThreadLocalRandom.current().nextInt(downstream.size())).offer(
          new StreamElement.Record(channel, bytesOf(value), timestamp, null, -1));
    }
  }

  /** To every consumer task (serialized once: the bytes are never changed). */
  static final class Broadcast extends Exchange {
    Broadcast(List<ChannelTarget> downstream, int channel, Serde<?> serde) {
      super(downstream, channel, serde);
    }

    @Override
    void emit(Object value, long timestamp) {
      byte[] bytes = bytesOf(value);
      for (ChannelTarget inbox : downstream) {
        inbox.offer(new StreamElement.Record(channel, bytes, timestamp, null, -1));
      }
    }
  }

  /**
   * Writes records to a sink; its committables carry {@link JobGraph#SINK} and the sink's name,
   * so that the coordinator commits them to it.
   */
  static final class ToSink extends TaskOutput {
    private final SinkWriter<Object> writer;
    private final String prefix;

    @SuppressWarnings("unchecked")
    ToSink(SinkWriter<?> writer, String sinkName) {
      this.writer = (SinkWriter<Object>) writer;
      this.prefix = JobGraph.SINK + sinkName + "|";
    }

    @Override
    void emit(Object value, long timestamp) throws Exception {
      writer.write(value);
    }

    @Override
    CompletableFuture<List<String>> barrier(long checkpointId) {
      return writer.prepareCommit(checkpointId).thenApply(this::named);
    }

    @Override
    CompletableFuture<List<String>> stageFinal() {
      return writer.prepareCommit(Long.MAX_VALUE).thenApply(this::named);
    }

    private List<String> named(List<String> committables) {
      return committables.stream().map(c -> prefix + c).toList();
    }

    @Override
    void end() throws Exception {
      writer.close();
    }
  }
}
