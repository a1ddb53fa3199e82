package io.stratus.runtime.execution;

import io.stratus.runtime.functions.FilterFunction;
import io.stratus.runtime.functions.FlatMapFunction;
import io.stratus.runtime.functions.KeySelector;
import io.stratus.runtime.functions.MapFunction;
import io.stratus.runtime.graph.JobGraph;
import io.stratus.runtime.graph.Transformation;
import io.stratus.runtime.serde.Serde;
import io.stratus.runtime.sink.SinkWriter;
import io.stratus.store.keygroup.KeyGroups;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Where a task's records go: the stateless steps chained after it (map, filter, flatMap run in
 * the same task, no hand-over), ending in the inboxes of the next keyed operator (routed by key
 * group) or in a sink writer.
 */
abstract class TaskOutput {

  /** Passes a record on; user-function exceptions propagate to the task. */
  abstract void emit(Object value, long timestamp) throws Exception;

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
   * Checkpoint {@code checkpointId} has reached this task: pass the barrier on, or (at a sink)
   * stage what was written since the last checkpoint.
   *
   * @return the sink's committables, once staged (empty elsewhere)
   */
  CompletableFuture<List<String>> barrier(long checkpointId) {
    return CompletableFuture.completedFuture(List.of());
  }

  /** The input has ended: stage a sink's last output (empty elsewhere). */
  CompletableFuture<List<String>> stageFinal() {
    return CompletableFuture.completedFuture(List.of());
  }

  /** The task's input has ended and all its output was emitted. */
  void end() throws Exception {}

  /** Builds the chain for {@code steps} (stateless only) in front of {@code terminal}. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  static TaskOutput chain(List<Transformation> steps, TaskOutput terminal) {
    TaskOutput out = terminal;
    for (int i = steps.size() - 1; i >= 0; i--) {
      TaskOutput next = out;
      Transformation t = steps.get(i);
      if (t instanceof Transformation.MapNode m) {
        MapFunction f = m.function();
        out = new Step(next) {
          @Override
          void emit(Object value, long ts) throws Exception {
            next.emit(f.map(value), ts);
          }
        };
      } else if (t instanceof Transformation.FilterNode fl) {
        FilterFunction f = fl.function();
        out = new Step(next) {
          @Override
          void emit(Object value, long ts) throws Exception {
            if (f.filter(value)) {
              next.emit(value, ts);
            }
          }
        };
      } else if (t instanceof Transformation.FlatMapNode fm) {
        FlatMapFunction f = fm.function();
        out = new Step(next) {
          @Override
          void emit(Object value, long ts) throws Exception {
            Exception[] failure = {null};
            f.flatMap(value, record -> {
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
        };
      } else {
        throw new IllegalArgumentException("step " + t.name() + " cannot be chained");
      }
    }
    return out;
  }

  /**
   * {@code main} plus the writers of a keyed operator's side outputs (by tag id): barriers and
   * the end of input stage and close them too; their committables carry
   * {@link JobGraph#SIDE_OUTPUT} and the tag id, so the coordinator commits them to their sink.
   */
  static TaskOutput withSideOutputs(TaskOutput main, Map<String, SinkWriter<?>> sideOutputs) {
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
            .thenApply(list -> list.stream().map(c -> JobGraph.SIDE_OUTPUT + tag + "|" + c)
                .toList())));
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenApply(v -> {
          List<String> all = new ArrayList<>();
          parts.forEach(p -> all.addAll(p.join()));
          return all;
        });
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

  /** A chained step: forwards flow control to the rest of the chain. */
  private abstract static class Step extends TaskOutput {
    private final TaskOutput next;

    Step(TaskOutput next) {
      this.next = next;
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

  /** Routes records by key group to the next keyed operator's tasks. */
  static final class Partitioner extends TaskOutput {
    private final List<TaskInbox> downstream;
    @SuppressWarnings("rawtypes")
    private final KeySelector selector;
    @SuppressWarnings("rawtypes")
    private final Serde keySerde;
    private final int maxParallelism;
    private final int input;

    Partitioner(List<TaskInbox> downstream, KeySelector<?, ?> selector, Serde<?> keySerde,
        int maxParallelism, int input) {
      this.downstream = downstream;
      this.selector = selector;
      this.keySerde = keySerde;
      this.maxParallelism = maxParallelism;
      this.input = input;
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
      downstream.get(target).offer(new StreamElement.Record(input, value, timestamp, key,
          keyBytes, keyGroup));
    }

    @Override
    boolean hasSpace() {
      for (TaskInbox inbox : downstream) {
        if (!inbox.hasSpace()) {
          return false;
        }
      }
      return true;
    }

    @Override
    void whenSpace(Runnable resume) {
      for (TaskInbox inbox : downstream) {
        if (!inbox.hasSpace()) {
          inbox.whenSpace(resume);
          return;
        }
      }
      resume.run();
    }

    @Override
    void watermark(long timestamp) {
      for (TaskInbox inbox : downstream) {
        inbox.offer(new StreamElement.Watermark(input, timestamp));
      }
    }

    @Override
    void watermarkStatus(boolean idle) {
      for (TaskInbox inbox : downstream) {
        inbox.offer(new StreamElement.WatermarkStatus(input, idle));
      }
    }

    @Override
    CompletableFuture<List<String>> barrier(long checkpointId) {
      for (TaskInbox inbox : downstream) {
        inbox.offer(new StreamElement.Barrier(input, checkpointId));
      }
      return CompletableFuture.completedFuture(List.of());
    }

    @Override
    void end() {
      for (TaskInbox inbox : downstream) {
        inbox.offer(new StreamElement.End(input));
      }
    }
  }

  /** Writes records to a sink. */
  static final class ToSink extends TaskOutput {
    @SuppressWarnings("rawtypes")
    private final SinkWriter writer;

    ToSink(SinkWriter<?> writer) {
      this.writer = writer;
    }

    @Override
    @SuppressWarnings("unchecked")
    void emit(Object value, long timestamp) throws Exception {
      writer.write(value);
    }

    @Override
    CompletableFuture<List<String>> barrier(long checkpointId) {
      return writer.prepareCommit(checkpointId);
    }

    @Override
    CompletableFuture<List<String>> stageFinal() {
      return writer.prepareCommit(Long.MAX_VALUE);
    }

    @Override
    void end() throws Exception {
      writer.close();
    }
  }
}
