package io.stratus.runtime.execution;

import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.graph.Transformation;
import io.stratus.runtime.sink.DeadLetterSink;
import io.stratus.runtime.sink.SinkWriter;
import io.stratus.runtime.state.KeyedStateBackend;
import io.stratus.runtime.state.StateBackendFactory;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * Builds the tasks a worker runs from their {@link TaskSpec}s: wires each to the inboxes of
 * the next operator through the {@link ChannelRegistry}, gives keyed tasks their own copy of the
 * function and a backend, fresh or restored from the spec's snapshot handles.
 */
public final class TaskBuilder {

  private final JobTopology topology;
  private final RuntimeConfig config;
  private final RuntimeResources resources;
  private final ChannelRegistry channels;
  private final StateBackendFactory backends;

  public TaskBuilder(JobTopology topology, RuntimeConfig config, RuntimeResources resources,
      ChannelRegistry channels) {
    this.topology = topology;
    this.config = config;
    this.resources = resources;
    this.channels = channels;
    this.backends = new StateBackendFactory(config.backend(), resources.store(),
        config.storeOptions(), config.rocksDbConfig());
  }

  public JobTopology topology() {
    return topology;
  }

  /** Builds one task; keyed tasks complete once their backend is open (restored). */
  public CompletableFuture<DeployedTask> build(TaskSpec spec, TaskEvents events) {
    try {
      return spec.isSource() ? CompletableFuture.completedFuture(source(spec, events))
          : keyed(spec, events);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private DeployedTask source(TaskSpec spec, TaskEvents events) {
    Transformation.SourceNode node = (Transformation.SourceNode) topology.segment(0).get(0);
    return new SourceTask(spec, node.name() + "[" + spec.subtask() + "/" + spec.parallelism()
        + "]", resources.vertx(), node.source().createReader(spec.subtask(), spec.parallelism()),
        node.watermarks(), output(spec), config.sourceBatch(), events);
  }

  private CompletableFuture<DeployedTask> keyed(TaskSpec spec, TaskEvents events) {
    Transformation.KeyedProcessNode node = topology.keyedNode(spec.segment());
    Transformation.KeyByNode keyBy = topology.keyByBefore(spec.segment());
    KeyedProcessFunction<?, ?, ?> function = copy(node);
    Map<String, SinkWriter<?>> sideOutputs = new LinkedHashMap<>();
    node.sideOutputs().forEach((tag, sink) ->
        sideOutputs.put(tag, sink.createWriter(spec.subtask(), spec.parallelism())));
    TaskOutput output = TaskOutput.withSideOutputs(output(spec), sideOutputs);
    TaskInbox inbox = channels.inbox(spec.job(), spec.attempt(), spec.segment(), spec.subtask(),
        config.channelCapacity());
    int inputs = topology.parallelism(spec.segment() - 1);
    String storeId = spec.job().replaceAll("[^A-Za-z0-9_.-]", "_") + "/" + node.uid() + "/"
        + spec.subtask() + "-a" + spec.attempt() + "-" + UUID.randomUUID().toString()
            .substring(0, 6);
    CompletableFuture<KeyedStateBackend> backend = spec.restore().isEmpty()
        ? backends.create(storeId, spec.keyGroups())
        : backends.restore(storeId, spec.keyGroups(), spec.restore());
    return backend.thenApply(b -> new KeyedTask(spec, node.name(), resources.vertx(), inbox,
        inputs, function, keyBy.keySerde(), b, output, sideOutputs,
        node.sideOutputs().get(DeadLetterSink.TAG_ID) instanceof DeadLetterSink<?> d
            ? d.maxAttempts() : 0, config.maxInFlight(), events));
  }

  /** The chained steps of the task's segment in front of its terminal (sink or next keyBy). */
  private TaskOutput output(TaskSpec spec) {
    List<Transformation> segment = topology.segment(spec.segment());
    Transformation last = segment.get(segment.size() - 1);
    TaskOutput terminal;
    if (last instanceof Transformation.SinkNode sink) {
      terminal = new TaskOutput.ToSink(sink.sink().createWriter(spec.subtask(),
          spec.parallelism()));
    } else {
      int next = spec.segment() + 1;
      List<TaskInbox> inboxes = new ArrayList<>();
      for (int i = 0; i < topology.parallelism(next); i++) {
        inboxes.add(channels.inbox(spec.job(), spec.attempt(), next, i,
            config.channelCapacity()));
      }
      Transformation.KeyByNode keyBy = (Transformation.KeyByNode) last;
      terminal = new TaskOutput.Partitioner(inboxes, keyBy.selector(), keyBy.keySerde(),
          topology.maxParallelism(), spec.subtask());
    }
    return TaskOutput.chain(segment.subList(1, segment.size() - 1), terminal);
  }

  /** Each task gets its own copy of the function, made by Java serialization, as in Flink. */
  private static KeyedProcessFunction<?, ?, ?> copy(Transformation.KeyedProcessNode node) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(node.function());
    } catch (IOException e) {
      throw new IllegalArgumentException("operator '" + node.name() + "': its function must be "
          + "serializable, since each task gets its own copy: " + e, e);
    }
    try (ObjectInputStream in = new ObjectInputStream(
        new ByteArrayInputStream(bytes.toByteArray())) {
      @Override
      protected Class<?> resolveClass(ObjectStreamClass desc)
          throws IOException, ClassNotFoundException {
        return Class.forName(desc.getName(), false,
            Thread.currentThread().getContextClassLoader());
      }
    }) {
      return (KeyedProcessFunction<?, ?, ?>) in.readObject();
    } catch (IOException | ClassNotFoundException e) {
      throw new IllegalStateException("cannot copy the function of operator '" + node.name()
          + "': " + e, e);
    }
  }
}
