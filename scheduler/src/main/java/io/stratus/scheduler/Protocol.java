package io.stratus.scheduler;

import io.stratus.runtime.source.SplitLag;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stratus.runtime.execution.TaskSnapshot;
import io.stratus.runtime.execution.TaskSpec;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * The messages between the coordinator and workers, JSON strings on the Vert.x event bus, so
 * that a clustered event bus carries the same protocol between hosts unchanged.
 *
 * <ul>
 *   <li>to a worker ({@code stratus.worker.<id>}): {@link Deploy}, {@link Start},
 *       {@link Trigger} (inject a checkpoint barrier at the sources), {@link Cancel};
 *   <li>to a job's coordinator ({@code stratus.job.<name>}): {@link Ack}, {@link Decline},
 *       {@link TaskFailed}, {@link TaskFinished};
 *   <li>to {@code stratus.coordinator.heartbeats}: {@link Heartbeat};
 *   <li>to {@code stratus.coordinator.join} (a request): {@link Join};
 *   <li>to {@code stratus.coordinator.leave} (a request): {@link Leave}.
 * </ul>
 */
final class Protocol {

  static final String HEARTBEATS = "stratus.coordinator.heartbeats";
  /** A worker process asks here for what it needs before it can run tasks ({@link Join}). */
  static final String JOIN = "stratus.coordinator.join";
  /** A worker asked to stop asks here to have its tasks moved first ({@link Leave}). */
  static final String LEAVE = "stratus.coordinator.leave";

  static String workerAddress(String worker) {
    return "stratus.worker." + worker;
  }

  static String jobAddress(String job) {
    return "stratus.job." + job;
  }

  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
  @JsonSubTypes({
      @JsonSubTypes.Type(value = Deploy.class, name = "deploy"),
      @JsonSubTypes.Type(value = Start.class, name = "start"),
      @JsonSubTypes.Type(value = Trigger.class, name = "trigger"),
      @JsonSubTypes.Type(value = Cancel.class, name = "cancel"),
      @JsonSubTypes.Type(value = Ack.class, name = "ack"),
      @JsonSubTypes.Type(value = Decline.class, name = "decline"),
      @JsonSubTypes.Type(value = TaskFailed.class, name = "task-failed"),
      @JsonSubTypes.Type(value = TaskFinished.class, name = "task-finished"),
      @JsonSubTypes.Type(value = FirstRecord.class, name = "first-record"),
      @JsonSubTypes.Type(value = Heartbeat.class, name = "heartbeat"),
      @JsonSubTypes.Type(value = Join.class, name = "join"),
      @JsonSubTypes.Type(value = Leave.class, name = "leave")})
  sealed interface Message {}

  /**
   * Build these tasks of the job's attempt (the job built from its {@code parameters},
   * operator parallelism by uid), and cancel the job's older attempts. {@code placement}
   * names the worker of every task of the attempt and {@code dataAddresses} where each of those
   * workers' data server listens (absent when every worker shares this process's channels).
   */
  record Deploy(String job, Map<String, String> parameters, int attempt,
      Map<String, Integer> parallelism, List<TaskSpec> tasks, Map<String, String> placement,
      Map<String, String> dataAddresses) implements Message {}

  /** Start the attempt's tasks (keyed tasks first, then sources). */
  record Start(String job, int attempt) implements Message {}

  /**
   * Inject the barrier of checkpoint {@code checkpointId} at the attempt's source tasks
   * {@code tasks} (those that have not ended); with {@code halt} they emit nothing after it (a
   * rescale or stop follows).
   */
  record Trigger(String job, int attempt, long checkpointId, boolean halt, List<String> tasks)
      implements Message {}

  /** Stop the attempt's tasks and close their state (no snapshot). */
  record Cancel(String job, int attempt) implements Message {}

  record Ack(String job, int attempt, String task, long checkpointId, TaskSnapshot snapshot)
      implements Message {}

  /** {@code staged}: sink output staged for the checkpoint anyway (see TaskEvents). */
  record Decline(String job, int attempt, String task, long checkpointId, String reason,
      List<String> staged) implements Message {}

  record TaskFailed(String job, int attempt, String task, String worker, String error)
      implements Message {}

  /** A task processed all its input; a source says where it ended. */
  record TaskFinished(String job, int attempt, String task, Map<String, Long> sourcePosition,
      List<String> committables) implements Message {}

  /** A keyed task of the attempt completed its first record. */
  record FirstRecord(String job, int attempt, String task) implements Message {}

  /**
   * A worker is alive; with what its tasks have done so far, its block cache's counters, where
   * its data server listens ({@code host:port}; null if it has none) and its cluster node id
   * (null in one process), by which the coordinator learns at once that it left the cluster.
   */
  record Heartbeat(String worker, long sentAt, List<TaskReport> tasks, long cacheHits,
      long cacheMisses, String dataAddress, String nodeId) implements Message {}

  /**
   * A worker process asks the leading coordinator to join; the reply is a JSON object of what
   * the coordinator offers its workers (where the bucket is, see
   * {@link Coordinator#workerSettings}).
   */
  record Join(String worker, String nodeId) implements Message {}

  /**
   * A worker is about to stop: the coordinator moves its tasks to the other workers by a
   * rescale (no failure, no replay beyond the rescale's checkpoint) and replies once none is
   * left on it.
   */
  record Leave(String worker) implements Message {}

  /** One task's counters, as of a heartbeat. */
  record TaskReport(String job, int attempt, String task, long records, long stateBytes,
      Map<String, SplitLag> lag) {

    TaskReport {
      lag = lag == null ? Map.of() : Map.copyOf(lag);
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  static String encode(Message m) {
    try {
      return JSON.writeValueAsString(m);
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode " + m.getClass().getSimpleName(), e);
    }
  }

  static Message decode(Object body) {
    try {
      return JSON.readValue(String.valueOf(body), Message.class);
    } catch (IOException e) {
      throw new IllegalArgumentException("not a Stratus protocol message: " + e.getMessage(), e);
    }
  }

  private Protocol() {}
}
