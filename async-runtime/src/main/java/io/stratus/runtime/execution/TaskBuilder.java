package io.stratus.runtime.execution;

import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.functions.DeadLetter;
import io.stratus.runtime.graph.Partitioning;
import io.stratus.runtime.graph.StreamEdge;
import io.stratus.runtime.graph.Transformation;
import io.stratus.runtime.serde.Serde;
import io.stratus.runtime.sink.DeadLetterSink;
import io.stratus.runtime.sink.SinkWriter;
import io.stratus.runtime.state.KeyedStateBackend;
import io.stratus.runtime.state.StateBackendFactory;
import io.vertx.core.Context;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * Builds the tasks a worker runs from their {@link TaskSpec}s: the chain of operators of the
 * task's vertex, each with its own copy of its function (made by Java serialization, as Flink
 * does: no two tasks share a function), ending in sink writers and in exchanges wired to the
 * consumer tasks' inboxes through the {@link ChannelRegistry}; keyed tasks get a backend, fresh
 * or restored from the spec's snapshot handles.
 */
public final class TaskBuilder {

  private final JobTopology topology;
  private final RuntimeConfig config;
  private final RuntimeResources resources;
  private final ChannelRegistry channels;
  private final TaskPlacement placement;
  private final StateBackendFactory backends;

  /**
   * @param placement where the attempt's tasks run: a consumer on another worker is reached
   *                  over the data plane
   */
  public TaskBuilder(JobTopology topology, RuntimeConfig config, RuntimeResources resources,
      ChannelRegistry channels, TaskPlacement placement) {
    this.topology = topology;
    this.config = config;
    this.resources = resources;
    this.channels = channels;
    this.placement = placement;
    this.backends = new StateBackendFactory(config.backend(), resources.store(),
        config.storeOptions(), config.rocksDbConfig());
  }

  public JobTopology topology() {
    return topology;
  }

  /** Builds one task; keyed tasks complete once their backend is open (restored). */
  public CompletableFuture<DeployedTask> build(TaskSpec spec, TaskEvents events) {
    try {
      Transformation head = topology.head(spec.vertex());
      if (head instanceof Transformation.SourceNode source) {
        return CompletableFuture.completedFuture(source(spec, source, events));
      }
      if (head instanceof Transformation.KeyedProcessNode keyed) {
        return keyed(spec, keyed, events);
      }
      TaskOutput chain = step(spec, head.id(), events);
      return CompletableFuture.completedFuture(new StreamTask(spec, taskName(spec),
          resources.newTaskContext(), inbox(spec), inputSerdes(spec), new ChainHead(chain), chain,
          events));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private String taskName(TaskSpec spec) {
    return topology.vertex(spec.vertex()).name() + "[" + spec.subtask() + "/"
        + spec.parallelism() + "]";
  }

  @SuppressWarnings("unchecked")
  private DeployedTask source(TaskSpec spec, Transformation.SourceNode node, TaskEvents events) {
    Map<String, SinkWriter<?>> sideOutputs = new LinkedHashMap<>();
    node.sideOutputs().forEach((tag, sink) ->
        sideOutputs.put(tag, sink.createWriter(spec.subtask(), spec.parallelism())));
    return new SourceTask(spec, taskName(spec), resources.vertx(), resources.newTaskContext(),
        node.source().createReader(spec.subtask(), spec.parallelism()), node.watermarks(),
        TaskOutput.withSideOutputs(outputOf(spec, node.id(), events), node.name(), sideOutputs),
        (SinkWriter<DeadLetter<byte[]>>) sideOutputs.get(DeadLetterSink.TAG_ID),
        config.sourceBatch(), events);
  }

  private CompletableFuture<DeployedTask> keyed(TaskSpec spec,
      Transformation.KeyedProcessNode node, TaskEvents events) {
    Map<String, SinkWriter<?>> sideOutputs = new LinkedHashMap<>();
    node.sideOutputs().forEach((tag, sink) ->
        sideOutputs.put(tag, sink.createWriter(spec.subtask(), spec.parallelism())));
    TaskOutput output = TaskOutput.withSideOutputs(outputOf(spec, node.id(), events), node.uid(),
        sideOutputs);
    String storeId = spec.job().replaceAll("[^A-Za-z0-9_.-]", "_") + "/" + node.uid() + "/"
        + spec.subtask() + "-a" + spec.attempt() + "-" + UUID.randomUUID().toString()
            .substring(0, 6);
    CompletableFuture<KeyedStateBackend> backend = spec.restore().isEmpty()
        ? backends.create(storeId, spec.keyGroups())
        : backends.restore(storeId, spec.keyGroups(), spec.restore(),
            spec.warmFirst());
    Serde<?> keySerde = ((Partitioning.Hash) topology.graph().inputs(node.id()).get(0)
        .partitioning()).keySerde();
    TaskInbox inbox = inbox(spec);
    InputSerdes serdes = inputSerdes(spec);
    int deadLetterAttempts = node.sideOutputs().get(DeadLetterSink.TAG_ID)
        instanceof DeadLetterSink<?> d ? d.maxAttempts() : 0;
    return backend.thenApply(b -> {
      Context context = resources.newTaskContext();
      DrainTimeLimit limit = DrainTimeLimit.adaptive(config.maxInFlight(),
          config.inFlightTargetMillis());
      inbox.boundBy(limit);
      KeyedOperator head = new KeyedOperator(spec, copy(node.function(), node.name()), keySerde,
          b, output, sideOutputs, deadLetterAttempts, limit, resources.vertx(), context, events);
      return new StreamTask(spec, taskName(spec), context, inbox, serdes, head, output, events);
    });
  }

  private TaskInbox inbox(TaskSpec spec) {
    return channels.inbox(spec.job(), spec.attempt(), spec.vertex(), spec.subtask(),
        config.channelCapacity());
  }

  /** The serdes of the task's input channels. */
  private InputSerdes inputSerdes(TaskSpec spec) {
    int count = topology.channels(spec.vertex());
    Serde<?>[] values = new Serde<?>[count];
    Serde<?>[] keys = new Serde<?>[count];
    for (JobTopology.Exchange x : topology.inputsOf(spec.vertex())) {
      int width = x.forward() ? 1 : topology.vertex(x.from()).parallelism();
      for (int c = 0; c < width; c++) {
        values[x.channelOffset() + c] = x.edge().serde();
        keys[x.channelOffset() + c] = x.partitioning() instanceof Partitioning.Hash h
            ? h.keySerde() : null;
      }
    }
    return new InputSerdes(values, keys);
  }

  /** Node {@code id} of the task's chain, run in front of its own outputs. */
  private TaskOutput step(TaskSpec spec, int id, TaskEvents events) {
    Transformation t = topology.graph().node(id);
    if (t instanceof Transformation.SinkNode s) {
      return new TaskOutput.ToSink(s.sink().createWriter(spec.subtask(), spec.parallelism()),
          s.name());
    }
    TaskOutput next = outputOf(spec, id, events);
    if (t instanceof Transformation.MapNode m) {
      return new TaskOutput.MapStep(copy(m.function(), m.name()), next);
    }
    if (t instanceof Transformation.FilterNode f) {
      return new TaskOutput.FilterStep(copy(f.function(), f.name()), next);
    }
    if (t instanceof Transformation.FlatMapNode f) {
      return new TaskOutput.FlatMapStep(copy(f.function(), f.name()), next);
    }
    if (t instanceof Transformation.ProcessNode p) {
      return new TaskOutput.ProcessStep(copy(p.function(), p.name()), next);
    }
    throw new IllegalArgumentException("step '" + t.name() + "' (" + t.kind()
        + ") cannot run chained");
  }

  /** Where node {@code id}'s records go in this task: its chained successors and exchanges. */
  private TaskOutput outputOf(TaskSpec spec, int id, TaskEvents events) {
    List<TaskOutput> targets = new ArrayList<>();
    for (StreamEdge e : topology.graph().outputs(id)) {
      targets.add(topology.chained(e) ? step(spec, e.to(), events) : exchange(spec, e, events));
    }
    if (targets.isEmpty()) {
      // A keyed operator whose only outputs are side outputs.
      return new TaskOutput.Fanout(List.of());
    }
    return targets.size() == 1 ? targets.get(0) : new TaskOutput.Fanout(targets);
  }

  private TaskOutput exchange(TaskSpec spec, StreamEdge edge, TaskEvents events) {
    JobTopology.Exchange x = topology.exchange(edge);
    JobTopology.Vertex consumer = topology.vertex(x.to());
    if (x.forward()) {
      return new TaskOutput.Forward(target(spec, x.to(), spec.subtask(), x.channelOffset(),
          events), x.channelOffset(), edge.serde());
    }
    int channel = x.channelOffset() + spec.subtask();
    List<ChannelTarget> inboxes = new ArrayList<>();
    for (int i = 0; i < consumer.parallelism(); i++) {
      inboxes.add(target(spec, x.to(), i, channel, events));
    }
    Partitioning p = x.partitioning();
    if (p instanceof Partitioning.Hash h) {
      return new TaskOutput.Hash(inboxes, channel, edge.serde(),
          copy(h.selector(), "keyBy into " + consumer.name()), h.keySerde(),
          topology.maxParallelism());
    }
    if (p instanceof Partitioning.Rebalance) {
      return new TaskOutput.Rebalance(inboxes, channel, edge.serde(), spec.subtask());
    }
    if (p instanceof Partitioning.Shuffle) {
      return new TaskOutput.Shuffle(inboxes, channel, edge.serde());
    }
    if (p instanceof Partitioning.Broadcast) {
      return new TaskOutput.Broadcast(inboxes, channel, edge.serde());
    }
    throw new IllegalStateException("edge " + edge + " has an unresolved partitioning " + p);
  }

  /**
   * The channel from the producer {@code spec} to consumer task {@code subtask} of
   * {@code vertex}; one to another worker fails the producer as soon as its connection fails.
   */
  private ChannelTarget target(TaskSpec spec, int vertex, int subtask, int input,
      TaskEvents events) {
    ChannelTarget target = channels.target(spec, placement, vertex, subtask, input,
        config.channelCapacity());
    if (target instanceof RemoteTarget remote) {
      String name = taskName(spec);
      remote.channel().onFailure(e -> events.taskFailed(spec,
          new TaskFailureException(name, null, null, e)));
    }
    return target;
  }

  /** Each task gets its own copy of a function, made by Java serialization, as in Flink. */
  @SuppressWarnings("unchecked")
  static <F extends Serializable> F copy(F function, String operator) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(function);
    } catch (IOException e) {
      throw new IllegalArgumentException("operator '" + operator + "': its function must be "
          + "serializable, since each task gets its own copy: " + e, e);
    }
    try (ObjectInputStream in = new ObjectInputStream(
        new ByteArrayInputStream(bytes.toByteArray())) {
      @Override
      protected Class<?> resolveClass(ObjectStreamClass desc)
          throws IOException, ClassNotFoundException {
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        return Class.forName(desc.getName(), false,
            loader != null ? loader : TaskBuilder.class.getClassLoader());
      }
    }) {
      return (F) in.readObject();
    } catch (IOException | ClassNotFoundException e) {
      throw new IllegalStateException("cannot copy the function of operator '" + operator
          + "': " + e, e);
    }
  }
}
