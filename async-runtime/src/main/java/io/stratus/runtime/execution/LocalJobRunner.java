package io.stratus.runtime.execution;

import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.graph.JobGraph;
import io.stratus.runtime.graph.Transformation;
import io.stratus.runtime.state.KeyedStateBackend;
import io.stratus.runtime.state.RocksDbBackend;
import io.stratus.runtime.state.StateBackendFactory;
import io.stratus.store.keygroup.KeyGroupRange;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * Runs a {@link JobGraph} in this JVM: source tasks and keyed tasks, each on its own Vert.x
 * context, connected by bounded inboxes; stateless steps are chained into the task before them.
 * The first failure stops every task and fails the job with that failure.
 */
public final class LocalJobRunner {

  private LocalJobRunner() {}

  /** Starts the job; the returned future completes when every task has ended. */
  public static CompletableFuture<JobResult> run(JobGraph graph, RuntimeConfig settings,
      RuntimeResources resources) {
    JobRun job = new JobRun();
    long start = System.currentTimeMillis();
    String runId = graph.name().replaceAll("[^A-Za-z0-9_.-]", "_") + "-"
        + UUID.randomUUID().toString().substring(0, 8);
    StateBackendFactory backends = new StateBackendFactory(settings.backend(),
        resources.store(), settings.storeOptions(),
        RocksDbBackend.Config.defaults(settings.localStateDirectory()));

    List<List<Transformation>> segments = segments(graph.pipeline());
    List<KeyedTask> keyedTasks = new ArrayList<>();
    List<TaskInbox> nextInboxes = null;
    Transformation.KeyByNode nextKeyBy = null;
    List<KeyedStateBackend> opened = new ArrayList<>();
    try {
      for (int s = segments.size() - 1; s >= 1; s--) {
        List<Transformation> segment = segments.get(s);
        Transformation.KeyedProcessNode node = (Transformation.KeyedProcessNode) segment.get(0);
        Transformation.KeyByNode keyBy = (Transformation.KeyByNode)
            segments.get(s - 1).get(segments.get(s - 1).size() - 1);
        int parallelism = node.parallelism() > 0 ? node.parallelism() : settings.parallelism();
        int inputs = s == 1 ? sourceParallelism(segments.get(0))
            : parallelismOf(segments.get(s - 1), settings);
        List<TaskInbox> inboxes = new ArrayList<>();
        for (int i = 0; i < parallelism; i++) {
          inboxes.add(new TaskInbox(settings.channelCapacity()));
        }
        byte[] function = serialize(node);
        for (int i = 0; i < parallelism; i++) {
          KeyGroupRange range = KeyGroupRange.forSubtask(settings.maxParallelism(), parallelism,
              i);
          KeyedStateBackend backend = backends.create(runId + "/" + node.uid() + "/" + i, range)
              .join();
          opened.add(backend);
          TaskOutput output = output(segment, nextInboxes, nextKeyBy, settings, i);
          keyedTasks.add(new KeyedTask(node.name(), i, parallelism, resources.vertx(),
              inboxes.get(i), inputs, copy(function), keyBy.keySerde(), backend, output,
              settings.maxInFlight(), job));
        }
        nextInboxes = inboxes;
        nextKeyBy = keyBy;
      }
    } catch (RuntimeException e) {
      opened.forEach(KeyedStateBackend::close);
      return CompletableFuture.failedFuture(e);
    }

    List<Transformation> head = segments.get(0);
    Transformation.SourceNode sourceNode = (Transformation.SourceNode) head.get(0);
    int sourceParallelism = sourceParallelism(head);
    List<SourceTask> sources = new ArrayList<>();
    for (int i = 0; i < sourceParallelism; i++) {
      TaskOutput output = output(head, nextInboxes, nextKeyBy, settings, i);
      sources.add(new SourceTask(sourceNode.name() + "[" + i + "/" + sourceParallelism + "]",
          resources.vertx(), sourceNode.source().createReader(i, sourceParallelism),
          sourceNode.watermarks(), output, settings.sourceBatch(), job));
    }
    List<CompletableFuture<Void>> done = new ArrayList<>();
    for (KeyedTask t : keyedTasks) {
      done.add(t.start());
    }
    for (SourceTask t : sources) {
      done.add(t.start());
    }
    CompletableFuture<Void> all = CompletableFuture.allOf(done.toArray(CompletableFuture[]::new));
    return CompletableFuture.anyOf(all, job.failure()).handle((v, error) -> {
      job.cancel();
      opened.forEach(KeyedStateBackend::close);
      if (error != null) {
        throw error instanceof RuntimeException r ? r : new IllegalStateException(error);
      }
      Map<String, Long> recordsIn = new LinkedHashMap<>();
      Map<String, Integer> maxInFlight = new LinkedHashMap<>();
      for (int i = 0; i < sources.size(); i++) {
        recordsIn.put(sourceNode.name() + "[" + i + "]", sources.get(i).records());
      }
      for (KeyedTask t : keyedTasks) {
        recordsIn.put(t.name(), t.records());
        maxInFlight.put(t.name(), t.controller().maxObservedInFlight());
      }
      return new JobResult(graph.name(), System.currentTimeMillis() - start, recordsIn,
          maxInFlight);
    });
  }

  /** Splits the pipeline before each keyed operator. */
  private static List<List<Transformation>> segments(List<Transformation> pipeline) {
    List<List<Transformation>> out = new ArrayList<>();
    List<Transformation> current = new ArrayList<>();
    for (Transformation t : pipeline) {
      if (t instanceof Transformation.KeyedProcessNode) {
        out.add(current);
        current = new ArrayList<>();
      }
      current.add(t);
    }
    out.add(current);
    return out;
  }

  private static int sourceParallelism(List<Transformation> head) {
    return Math.max(1, ((Transformation.SourceNode) head.get(0)).parallelism());
  }

  private static int parallelismOf(List<Transformation> segment, RuntimeConfig settings) {
    Transformation.KeyedProcessNode node = (Transformation.KeyedProcessNode) segment.get(0);
    return node.parallelism() > 0 ? node.parallelism() : settings.parallelism();
  }

  /** The chained steps of a segment (after its first node) in front of its terminal. */
  private static TaskOutput output(List<Transformation> segment, List<TaskInbox> nextInboxes,
      Transformation.KeyByNode nextKeyBy, RuntimeConfig settings, int index) {
    Transformation last = segment.get(segment.size() - 1);
    TaskOutput terminal;
    if (last instanceof Transformation.SinkNode sink) {
      int parallelism = segment.get(0) instanceof Transformation.KeyedProcessNode
          ? parallelismOf(segment, settings) : sourceParallelism(segment);
      terminal = new TaskOutput.ToSink(sink.sink().createWriter(index, parallelism));
    } else {
      terminal = new TaskOutput.Partitioner(nextInboxes, nextKeyBy.selector(),
          nextKeyBy.keySerde(), settings.maxParallelism(), index);
    }
    return TaskOutput.chain(segment.subList(1, segment.size() - 1), terminal);
  }

  private static byte[] serialize(Transformation.KeyedProcessNode node) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(node.function());
    } catch (IOException e) {
      throw new IllegalArgumentException("operator '" + node.name() + "': its function must be "
          + "serializable, since each task gets its own copy: " + e, e);
    }
    return bytes.toByteArray();
  }

  private static KeyedProcessFunction<?, ?, ?> copy(byte[] function) {
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(function)) {
      @Override
      protected Class<?> resolveClass(java.io.ObjectStreamClass desc)
          throws IOException, ClassNotFoundException {
        return Class.forName(desc.getName(), false,
            Thread.currentThread().getContextClassLoader());
      }
    }) {
      return (KeyedProcessFunction<?, ?, ?>) in.readObject();
    } catch (IOException | ClassNotFoundException e) {
      throw new IllegalStateException("cannot copy a keyed function: " + e, e);
    }
  }
}
