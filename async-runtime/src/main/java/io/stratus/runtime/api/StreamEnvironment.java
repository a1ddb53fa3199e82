package io.stratus.runtime.api;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.cache.HybridBlockCache;
import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.execution.JobResult;
import io.stratus.runtime.execution.LocalJobRunner;
import io.stratus.runtime.execution.RuntimeResources;
import io.stratus.runtime.graph.JobGraph;
import io.stratus.runtime.graph.Transformation;
import io.stratus.runtime.graph.WatermarkStrategy;
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
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Builds and runs jobs, as Flink's {@code StreamExecutionEnvironment}: start from a source,
 * transform, key, sink, then {@link #execute}. This environment runs jobs in this JVM on Vert.x
 * event loops; the scheduler runs the same graphs across workers.
 */
public final class StreamEnvironment implements AutoCloseable {

  private final RuntimeConfig config;
  private final RuntimeResources resources;
  private final List<AutoCloseable> owned = new ArrayList<>();
  private final List<Transformation> pipeline = new ArrayList<>();

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

  /** Starts a pipeline at {@code source}, read by one task. */
  public <T> DataStream<T> fromSource(Source<T> source, WatermarkStrategy watermarks,
      String name) {
    return fromSource(source, watermarks, name, 1);
  }

  /** Starts a pipeline at {@code source}, read by {@code parallelism} tasks (one split each). */
  public <T> DataStream<T> fromSource(Source<T> source, WatermarkStrategy watermarks,
      String name, int parallelism) {
    if (!pipeline.isEmpty()) {
      throw new IllegalStateException("this environment already has a pipeline; one source per "
          + "job for now");
    }
    if (parallelism < 1) {
      throw new IllegalArgumentException("source parallelism must be >= 1, was " + parallelism);
    }
    pipeline.add(new Transformation.SourceNode(name, source, watermarks, parallelism));
    return new DataStream<>(this);
  }

  void add(Transformation t) {
    if (!pipeline.isEmpty()
        && pipeline.get(pipeline.size() - 1) instanceof Transformation.SinkNode) {
      throw new IllegalStateException("the pipeline already ends in a sink");
    }
    pipeline.add(t);
  }

  /** The job graph built so far. */
  public JobGraph graph(String jobName) {
    return new JobGraph(jobName, pipeline);
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
    pipeline.clear();
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
