package io.stratus.benchflink;

import io.stratus.bench.BenchArgs;
import io.stratus.bench.BenchKeys;
import io.stratus.bench.ChildJvm;
import io.stratus.bench.KeyedUpdateWorkload;
import io.stratus.bench.SideBySideBenchmark;
import io.stratus.bench.UpdateProgress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.runtime.asyncprocessing.operators.AsyncKeyedProcessOperator;
import org.apache.flink.runtime.jobgraph.SavepointRestoreSettings;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.util.Collector;

/**
 * One Flink 2.0 contender of {@link SideBySideBenchmark}: the same keyed update workload on a
 * MiniCluster in this JVM, with EmbeddedRocksDB (state API v1, synchronous: how RocksDB jobs are
 * written) or ForSt (state API v2 in Flink's async keyed process operator: how ForSt is meant
 * to run).
 * Both get the same fixed state memory per task manager (the budget Stratus's caches get),
 * incremental checkpoints on the local disk, and one task manager with enough slots for the
 * restore parallelism. Prints one {@code RESULT {json}} line.
 */
public final class FlinkKeyedUpdate {

  private FlinkKeyedUpdate() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = BenchArgs.parse(args);
    String backend = a.get("--run");
    if (!backend.equals("flink-rocksdb") && !backend.equals("flink-forst")) {
      throw new IllegalArgumentException("--run must be flink-rocksdb or flink-forst, was "
          + backend);
    }
    KeyedUpdateWorkload w = KeyedUpdateWorkload.parse(a);
    run(backend.equals("flink-forst"), w, Path.of(a.get("--dir")));
    System.exit(0);
  }

  /** API v1: read, then write, synchronously. */
  static final class SyncUpdate extends KeyedProcessFunction<Long, Long, Long> {
    private final long records;
    private transient org.apache.flink.api.common.state.ValueState<byte[]> value;

    SyncUpdate(long records) {
      this.records = records;
    }

    @Override
    public void open(OpenContext context) {
      value = getRuntimeContext().getState(new ValueStateDescriptor<>("value",
          PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
    }

    @Override
    public void processElement(Long key, Context context, Collector<Long> out)
        throws Exception {
      value.update(BenchKeys.nextValue(key, value.value()));
      UpdateProgress.completed(records);
    }
  }

  /** API v2: the read returns a future; the write follows when it completes. */
  static final class AsyncUpdate extends KeyedProcessFunction<Long, Long, Long> {
    private final long records;
    private transient org.apache.flink.api.common.state.v2.ValueState<byte[]> value;

    AsyncUpdate(long records) {
      this.records = records;
    }

    @Override
    public void open(OpenContext context) {
      value = getRuntimeContext().getState(
          new org.apache.flink.api.common.state.v2.ValueStateDescriptor<>("value",
              PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
    }

    @Override
    public void processElement(Long key, Context context, Collector<Long> out) {
      value.asyncValue().thenAccept(previous -> {
        value.asyncUpdate(BenchKeys.nextValue(key, previous));
        UpdateProgress.completed(records);
      });
    }
  }

  private static StreamGraph graph(boolean forst, KeyedUpdateWorkload w, int parallelism,
      Configuration conf) {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
    KeyedUpdateWorkload.KeyGenerator keys = w.keyGenerator();
    var keyed = env.fromSequence(0, Long.MAX_VALUE - 1).setParallelism(1)
        .map(n -> {
          if (n >= w.records()) {
            // Past the measured phase: a record per 10 ms (this is the source's own thread).
            Thread.sleep(10);
          }
          return keys.keyOf(n);
        }).returns(Types.LONG).setParallelism(1)
        .keyBy(k -> k, Types.LONG);
    // Flink 2.0.0's KeyedStream.process always builds the synchronous operator; the async one
    // (what its SQL operators use with ForSt) is added by hand.
    var updated = forst
        ? keyed.enableAsyncState().transform("update", Types.LONG,
            new AsyncKeyedProcessOperator<>(new AsyncUpdate(w.records())))
        : keyed.process(new SyncUpdate(w.records()), Types.LONG);
    updated.setParallelism(parallelism).uid("update").sinkTo(new DiscardingSink<>())
        .setParallelism(parallelism);
    return env.getStreamGraph();
  }

  /** Runs both phases and prints the {@code RESULT} line. */
  static void run(boolean forst, KeyedUpdateWorkload w, Path dir) throws Exception {
    Configuration conf = new Configuration();
    conf.set(StateBackendOptions.STATE_BACKEND, forst ? "forst" : "rocksdb");
    conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY,
        dir.resolve("checkpoints").toUri().toString());
    conf.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
    conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL,
        java.time.Duration.ofMillis(w.intervalMs()));
    conf.set(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
        ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
    String memory = w.cacheMiB() + "m";
    if (forst) {
      conf.setString("state.backend.forst.primary-dir",
          dir.resolve("forst-primary").toUri().toString());
      conf.setString("state.backend.forst.local-dir", dir.resolve("forst-local").toString());
      conf.setString("state.backend.forst.memory.managed", "false");
      conf.setString("state.backend.forst.memory.fixed-per-tm", memory);
    } else {
      conf.setString("state.backend.rocksdb.localdir", dir.resolve("rocksdb").toString());
      conf.setString("state.backend.rocksdb.memory.managed", "false");
      conf.setString("state.backend.rocksdb.memory.fixed-per-tm", memory);
    }
    conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.ofMebiBytes(16));
    conf.setString("rest.bind-port", "0");
    int slots = Math.max(w.parallelism(), w.restoreTo()) + 1;
    MiniClusterConfiguration mc = new MiniClusterConfiguration.Builder()
        .setConfiguration(conf).setNumTaskManagers(1).setNumSlotsPerTaskManager(slots).build();
    try (MiniCluster cluster = new MiniCluster(mc)) {
      cluster.start();
      URI rest = cluster.getRestAddress().get();
      JobID job = cluster.submitJob(graph(forst, w, w.parallelism(), conf)).get().getJobID();
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(30);
      while (UpdateProgress.updatesPerSecond(w.records()) == 0) {
        if (System.nanoTime() > deadline || cluster.getJobStatus(job).get().isTerminalState()) {
          throw new IllegalStateException("the measured phase did not end: job "
              + cluster.getJobStatus(job).get());
        }
        Thread.sleep(20);
      }
      double perSecond = UpdateProgress.updatesPerSecond(w.records());
      List<Double> checkpoints = checkpointDurations(rest, job);
      String last = cluster.triggerCheckpoint(job).get(10, TimeUnit.MINUTES);
      cluster.cancelJob(job).get();
      while (!cluster.getJobStatus(job).get().isGloballyTerminalState()) {
        Thread.sleep(5);
      }
      long stateBytes = checkpointedSize(rest, job);

      UpdateProgress.restoring();
      // No periodic checkpoints in the restored job: ForSt 2.0.0 crashed (SIGSEGV in
      // WritableFileWriter::Append) when a job was canceled during a native snapshot.
      Configuration restoreConf = new Configuration(conf);
      restoreConf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, java.time.Duration.ofHours(1));
      StreamGraph restored = graph(forst, w, w.restoreTo(), restoreConf);
      restored.setSavepointRestoreSettings(SavepointRestoreSettings.forPath(last, false));
      long submitted = System.nanoTime();
      JobID second = cluster.submitJob(restored).get().getJobID();
      while (UpdateProgress.firstAfterRestoreNanos() == 0) {
        if (System.nanoTime() > deadline
            || cluster.getJobStatus(second).get().isTerminalState()) {
          throw new IllegalStateException("the restored job processed nothing: "
              + cluster.getJobStatus(second).get());
        }
        Thread.sleep(1);
      }
      long restoreNanos = UpdateProgress.firstAfterRestoreNanos() - submitted;
      // Reported before shutting down, whatever the shutdown does.
      ChildJvm.result(
          SideBySideBenchmark.result(perSecond, checkpoints, restoreNanos / 1e6, stateBytes));
      System.out.flush();
      cluster.cancelJob(second).get();
    }
  }

  private static String get(URI rest, String path) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        rest.resolve(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("GET " + path + " answered " + r.statusCode() + ": "
          + r.body());
    }
    return r.body();
  }

  /** End-to-end durations of the job's completed checkpoints so far. */
  private static List<Double> checkpointDurations(URI rest, JobID job) throws Exception {
    String body = get(rest, "/jobs/" + job + "/checkpoints");
    List<Double> out = new ArrayList<>();
    Matcher m = Pattern.compile("\"status\":\"COMPLETED\"[^{}]*?\"end_to_end_duration\":(\\d+)")
        .matcher(body);
    while (m.find()) {
      out.add(Double.parseDouble(m.group(1)));
    }
    return out;
  }

  /** The full state size of the latest completed checkpoint. */
  private static long checkpointedSize(URI rest, JobID job) throws Exception {
    String body = get(rest, "/jobs/" + job + "/checkpoints");
    Matcher m = Pattern.compile("\"latest\":\\{\"completed\":\\{[^{}]*?\"state_size\":(\\d+)")
        .matcher(body);
    return m.find() ? Long.parseLong(m.group(1)) : -1;
  }
}
