package io.stratus.runtime.api;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.cache.HybridBlockCache;
import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.execution.JobResult;
import io.stratus.runtime.execution.JobTopology;
import io.stratus.runtime.execution.LocalJobRunner;
import io.stratus.runtime.execution.RuntimeResources;
import io.stratus.runtime.graph.JobGraph;
import io.stratus.runtime.graph.StreamEdge;
import io.stratus.runtime.graph.Transformation;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.serde.Serde;
import io.stratus.runtime.source.Source;
import io.stratus.store.lsm.StoreResources;
import io.stratus.store.objectstore.LocalDirectoryObjectStore;
import io.stratus.store.objectstore.ObjectStore;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.concurrent.CompletableFuture;

/**
 * Builds and runs jobs, as Flink's {@code StreamExecutionEnvironment}: start from sources,
 * transform, branch, union, key, sink, then {@link #execute}. This environment runs jobs in this JVM on Vert.x
 * event loops; the scheduler runs the same graphs across workers.
 */
public final class StreamEnvironment implements AutoCloseable {

  private final RuntimeConfig config;
  private final RuntimeResources resources;
  private final List<AutoCloseable> owned = new ArrayList<>();
  private final List<Transformation> nodes = new ArrayList<>();
  private final List<StreamEdge> edges = new ArrayList<>();
  private final Map<Integer, Serde<?>> outputSerdes = new HashMap<>();

  private StreamEnvironment(RuntimeConfig config, RuntimeResources resources) {
    this.config = config;
    this.resources = resources;
  }

  /**
   * An environment that only builds job graphs, for the scheduler to run: {@link #graph} works,
   * {@link #execute} does not.
   */
  public static StreamEnvironment plan(RuntimeConfig config) {
    return new StreamEnvironment(config, null);
  }

  /** An environment over given resources (object store, cache, event loops). */
  public static StreamEnvironment create(RuntimeConfig config, RuntimeResources resources) {
    return new StreamEnvironment(config, resources);
  }

  /**
   * An environment with its own event loops, a local-directory object store in a temporary
   * folder and a default block cache: for examples and tests. Closing it releases them.
   */
  public static StreamEnvironment local(RuntimeConfig config) {
    try {
      Path dir = Files.createTempDirectory("stratus-env-");
      ObjectStore objects = new LocalDirectoryObjectStore(dir);
      return local(config, objects);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a temporary object store: " + e, e);
    }
  }

  /** Like {@link #local(RuntimeConfig)} but with state in {@code objects}. */
  public static StreamEnvironment local(RuntimeConfig config, ObjectStore objects) {
    Vertx vertx = Vertx.vertx();
    HybridBlockCache cache = new HybridBlockCache(BlockCacheConfig.defaults());
    StoreResources store = StoreResources.create(objects, cache);
    StreamEnvironment env = new StreamEnvironment(config, new RuntimeResources(vertx, store));
    env.owned.add(() -> vertx.close().toCompletionStage().toCompletableFuture().join());
    env.owned.add(store);
    env.owned.add(cache);
    env.owned.add(objects);
    return env;
  }

  public RuntimeConfig config() {
    return config;
  }

  public RuntimeResources resources() {
    return resources;
  }

  /** A stream read from {@code source} by one task. */
  public <T> SourceStream<T> fromSource(Source<T> source, WatermarkStrategy watermarks,
      String name) {
    return fromSource(source, watermarks, name, 1);
  }

  /**
   * A stream read from {@code source} by {@code parallelism} tasks (one split each). A job may
   * have any number of sources, each with its own name (their offsets are checkpointed by it).
   * The records' serde is the source's, or derived from its type argument.
   */
  @SuppressWarnings("unchecked")
  public <T> SourceStream<T> fromSource(Source<T> source, WatermarkStrategy watermarks,
      String name, int parallelism) {
    if (parallelism < 1) {
      throw new IllegalArgumentException("source parallelism must be >= 1, was " + parallelism);
    }
    Serde<?> serde = source.serde() != null ? source.serde()
        : OutputTypes.serdeOf(source, Source.class, 0);
    int id = add(next -> new Transformation.SourceNode(next, name, source, watermarks,
        parallelism), List.of(), serde);
    return new SourceStream<>(this, id);
  }

  /**
   * Adds a node fed by {@code inputs}; returns its id.
   *
   * @param output the serde of what the node emits, or null if unknown
   */
  int add(IntFunction<Transformation> node, List<DataStream.Input> inputs,
      Serde<?> output) {
    int id = nodes.size() + 1;
    nodes.add(node.apply(id));
    for (DataStream.Input input : inputs) {
      edges.add(new StreamEdge(input.node(), id, input.partitioning(),
          outputSerdes.get(input.node())));
    }
    if (output != null) {
      outputSerdes.put(id, output);
    }
    return id;
  }

  /** The node {@code id}. */
  Transformation node(int id) {
    return nodes.get(id - 1);
  }

  /** Replaces node {@code t.id()} (another name or parallelism). */
  void replace(Transformation t) {
    nodes.set(t.id() - 1, t);
  }

  /** The serde of what node {@code id} emits, or null if unknown. */
  Serde<?> outputSerde(int id) {
    return outputSerdes.get(id);
  }

  /** Declares the serde of what node {@code id} emits, for its edges made so far too. */
  void declareOutput(int id, Serde<?> serde) {
    outputSerdes.put(id, serde);
    edges.replaceAll(e -> e.from() == id
        ? new StreamEdge(e.from(), e.to(), e.partitioning(), serde) : e);
  }

  /** The name {@code sinkTo} gives a sink: {@code sink}, then {@code sink-2}, ... */
  String nextSinkName() {
    long sinks = nodes.stream().filter(t -> t instanceof Transformation.SinkNode).count();
    return sinks == 0 ? "sink" : "sink-" + (sinks + 1);
  }

  /**
   * The job graph built so far, checked whole: its shape ({@link JobGraph}), and how it runs
   * at the default parallelism ({@link JobTopology}: forward edges between equal parallelism,
   * a serde on every edge that is not chained).
   *
   * @throws IllegalArgumentException naming the step that is wrong
   */
  public JobGraph graph(String jobName) {
    JobGraph graph = new JobGraph(jobName, nodes, edges);
    new JobTopology(graph, config, Map.of());
    return graph;
  }

  /** Runs the job; completes when it has processed all input, or fails with the first error. */
  public CompletableFuture<JobResult> execute(String jobName) {
    JobGraph graph;
    try {
      graph = graph(jobName);
    } catch (IllegalArgumentException e) {
      return CompletableFuture.failedFuture(e);
    }
    if (resources == null) {
      return CompletableFuture.failedFuture(new IllegalStateException("this environment only "
          + "plans jobs; submit its graph to a coordinator, or use StreamEnvironment.local"));
    }
    nodes.clear();
    edges.clear();
    outputSerdes.clear();
    return LocalJobRunner.run(graph, config, resources);
  }

  @Override
  public void close() {
    for (int i = 0; i < owned.size(); i++) {
      try {
        owned.get(i).close();
      } catch (Exception e) {
        // closing the rest matters more
      }
    }
    owned.clear();
  }
}
