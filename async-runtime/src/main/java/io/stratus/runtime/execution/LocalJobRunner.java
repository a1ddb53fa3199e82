package io.stratus.runtime.execution;

import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.graph.JobGraph;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs a {@link JobGraph} once in this JVM, without checkpoints or recovery: all its tasks on
 * this JVM's event loops. The first failure cancels every task and fails the job with it. The
 * scheduler runs the same tasks with checkpoints, recovery and rescaling.
 */
public final class LocalJobRunner {

  private LocalJobRunner() {}

  /** Starts the job; the returned future completes when every task has ended. */
  public static CompletableFuture<JobResult> run(JobGraph graph, RuntimeConfig config,
      RuntimeResources resources) {
    long start = System.currentTimeMillis();
    JobTopology topology;
    try {
      topology = new JobTopology(graph, config, Map.of());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    String runName = graph.name() + "-" + UUID.randomUUID().toString().substring(0, 8);
    ChannelRegistry channels = new ChannelRegistry();
    TaskBuilder builder = new TaskBuilder(topology, config, resources, channels,
        TaskPlacement.local());
    CompletableFuture<Void> failure = new CompletableFuture<>();
    List<DeployedTask> tasks = new ArrayList<>();
    TaskEvents events = new TaskEvents() {
      @Override
      public void snapshotTaken(TaskSpec task, long checkpointId, TaskSnapshot snapshot) {}

      @Override
      public void snapshotFailed(TaskSpec task, long checkpointId, Throwable error,
          List<String> staged) {}

      @Override
      public void taskFailed(TaskSpec task, Throwable error) {
        failure.completeExceptionally(error);
      }

      @Override
      public void taskFinished(TaskSpec task, Map<String, Long> sourcePosition,
          List<String> committables) {}

      @Override
      public void firstRecordProcessed(TaskSpec task) {}
    };
    List<CompletableFuture<DeployedTask>> built = new ArrayList<>();
    for (TaskSpec spec : topology.tasks(0)) {
      TaskSpec named = new TaskSpec(runName, spec.attempt(), spec.vertex(), spec.subtask(),
          spec.parallelism(), spec.keyGroups(), null, List.of(), null);
      built.add(builder.build(named, events));
    }
    return CompletableFuture.allOf(built.toArray(CompletableFuture[]::new))
        .thenCompose(v -> {
          List<CompletableFuture<Void>> done = new ArrayList<>();
          for (CompletableFuture<DeployedTask> b : built) {
            tasks.add(b.join());
          }
          for (DeployedTask t : tasks) {
            if (!t.isSource()) {
              done.add(t.start());
            }
          }
          for (DeployedTask t : tasks) {
            if (t.isSource()) {
              done.add(t.start());
            }
          }
          return CompletableFuture.anyOf(
              CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)), failure);
        })
        .handle((v, ended) -> {
          // anyOf takes the first of its arguments that is complete when it is built: if every
          // task had ended by then (a failing one completes its done too), a failure already
          // reported would be passed over.
          Throwable error = ended != null ? ended : failure.isCompletedExceptionally()
              ? failure.handle((x, e) -> e).join() : null;
          // Called on a task's event loop: stopping the tasks must not wait on it.
          List<CompletableFuture<Void>> stopped = new ArrayList<>();
          for (CompletableFuture<DeployedTask> b : built) {
            if (b.isDone() && !b.isCompletedExceptionally()) {
              DeployedTask task = b.join();
              stopped.add(task.cancel().orTimeout(30, TimeUnit.SECONDS)
                  .handleAsync((x, e) -> {
                    task.releaseState();
                    return null;
                  }));
            }
          }
          return CompletableFuture.allOf(stopped.toArray(CompletableFuture[]::new))
              .handle((x, e) -> error);
        })
        .thenCompose(stoppedWithError -> stoppedWithError)
        .thenApply(error -> {
          channels.release(runName, 0);
          if (error != null) {
            Throwable cause = error.getCause() != null
                && error instanceof java.util.concurrent.CompletionException
                ? error.getCause() : error;
            throw cause instanceof RuntimeException r ? r
                : new java.util.concurrent.CompletionException(cause);
          }
          Map<String, Long> recordsIn = new LinkedHashMap<>();
          Map<String, Integer> maxInFlight = new LinkedHashMap<>();
          for (DeployedTask t : tasks) {
            String name = topology.vertex(t.spec().vertex()).name() + "[" + t.spec().subtask()
                + "]";
            if (recordsIn.containsKey(name)) {
              // Two vertices of one name (two maps): the vertex's index tells them apart.
              name = name.replace("[", "#" + t.spec().vertex() + "[");
            }
            recordsIn.put(name, t.records());
            if (!t.isSource()) {
              maxInFlight.put(name, t.maxObservedInFlight());
            }
          }
          return new JobResult(graph.name(), System.currentTimeMillis() - start, recordsIn,
              maxInFlight);
        });
  }
}
