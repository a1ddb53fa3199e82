package io.stratus.scheduler;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.stratus.runtime.source.OffsetReader;
import io.stratus.runtime.state.StateHandle;
import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.lsm.CheckpointHandle;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The {@code _metadata} of a completed checkpoint or savepoint: readable JSON with each source
 * split's offset, each keyed operator's state handles by operator uid (so a job restarts with
 * any parallelism, matching state by uid), and the sink output it committed. Small: pointers
 * only.
 *
 * @param job            the job's name
 * @param checkpointId   the checkpoint's number
 * @param kind           {@code checkpoint} or {@code savepoint}
 * @param timestamp      when it completed, epoch milliseconds
 * @param backend        the state backend that wrote the handles
 * @param maxParallelism the key-group space
 * @param sources        offsets per source split, by source name
 * @param operators      keyed operators' state
 * @param committed      sink output committed when this checkpoint completed
 */
public record CheckpointMetadata(String job, long checkpointId, String kind, long timestamp,
    String backend, int maxParallelism, List<SourceSplit> sources, List<Operator> operators,
    List<String> committed) {

  public static final String CHECKPOINT = "checkpoint";
  public static final String SAVEPOINT = "savepoint";

  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT);

  @JsonCreator
  public CheckpointMetadata(@JsonProperty("job") String job,
      @JsonProperty("checkpointId") long checkpointId, @JsonProperty("kind") String kind,
      @JsonProperty("timestamp") long timestamp, @JsonProperty("backend") String backend,
      @JsonProperty("maxParallelism") int maxParallelism,
      @JsonProperty("sources") List<SourceSplit> sources,
      @JsonProperty("operators") List<Operator> operators,
      @JsonProperty("committed") List<String> committed) {
    this.job = job;
    this.checkpointId = checkpointId;
    this.kind = kind;
    this.timestamp = timestamp;
    this.backend = backend;
    this.maxParallelism = maxParallelism;
    this.sources = sources == null ? List.of() : List.copyOf(sources);
    this.operators = operators == null ? List.of() : List.copyOf(operators);
    this.committed = committed == null ? List.of() : List.copyOf(committed);
  }

  /**
   * Where a source task resumes.
   *
   * @param source      the source's name (null in metadata written when jobs had one source)
   * @param subtask     the task
   * @param parallelism the source's parallelism when the checkpoint was taken
   * @param position    the next offset of each split the task read, by split name
   */
  public record SourceSplit(String source, int subtask, int parallelism,
      Map<String, Long> position) {

    /**
     * Reads metadata of either form: {@code position}, or the single {@code offset} of
     * metadata written before sources had named splits (the position of an
     * {@link OffsetReader}).
     */
    @JsonCreator
    public SourceSplit(@JsonProperty("source") String source,
        @JsonProperty("subtask") int subtask, @JsonProperty("parallelism") int parallelism,
        @JsonProperty("position") Map<String, Long> position,
        @JsonProperty("offset") Long offset) {
      this(source, subtask, parallelism, position != null ? position
          : offset != null ? Map.of(OffsetReader.SPLIT, offset) : Map.of());
    }

    public SourceSplit {
      position = Map.copyOf(position);
    }

    /** The sum of the split offsets: for sources that count records, records read. */
    public long offsetSum() {
      return position.values().stream().mapToLong(Long::longValue).sum();
    }
  }

  /**
   * The splits of source {@code name}; metadata of a job with one source (written before
   * sources were named) gives its splits to any name.
   */
  public List<SourceSplit> splitsOf(String name) {
    return sources.stream().filter(s -> s.source() == null || s.source().equals(name)).toList();
  }

  /**
   * The state of one keyed operator.
   *
   * @param uid         the operator's uid
   * @param parallelism its parallelism when the checkpoint was taken
   * @param tasks       each task's key groups and state handle
   */
  public record Operator(String uid, int parallelism, List<TaskState> tasks) {}

  /**
   * One keyed task's state.
   *
   * @param subtask   the task
   * @param keyGroups its key groups
   * @param state     the snapshot handle
   */
  public record TaskState(int subtask, KeyGroupRange keyGroups, StateHandle state) {}

  /** The operator of {@code uid}, or {@code null}. */
  public Operator operator(String uid) {
    for (Operator o : operators) {
      if (o.uid().equals(uid)) {
        return o;
      }
    }
    return null;
  }

  /** Every state handle, as the store's checkpoint handles, for reference counting. */
  @JsonIgnore
  public List<CheckpointHandle> checkpointHandles() {
    List<CheckpointHandle> out = new ArrayList<>();
    for (Operator o : operators) {
      for (TaskState t : o.tasks()) {
        StateHandle h = t.state();
        out.add(new CheckpointHandle(h.storeId(), h.version(), h.manifestKey(), h.keyGroups(),
            h.maxParallelism(), h.files()));
      }
    }
    return out;
  }

  public byte[] toJson() {
    try {
      return JSON.writeValueAsBytes(this);
    } catch (IOException e) {
      throw new IllegalStateException("cannot serialize checkpoint metadata", e);
    }
  }

  /**
   * Parses {@code _metadata}.
   *
   * @throws IllegalArgumentException naming {@code key} when it is not valid metadata
   */
  public static CheckpointMetadata parse(String key, byte[] json) {
    try {
      CheckpointMetadata m = JSON.readValue(json, CheckpointMetadata.class);
      if (m.job() == null || m.kind() == null || m.backend() == null) {
        throw new IllegalArgumentException("checkpoint metadata " + key
            + " lacks its job, kind or backend");
      }
      return m;
    } catch (IOException e) {
      throw new IllegalArgumentException("checkpoint metadata " + key + " is not valid: "
          + e.getMessage(), e);
    }
  }
}
