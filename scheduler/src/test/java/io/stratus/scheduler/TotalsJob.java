package io.stratus.scheduler;

import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.api.StreamEnvironment;
import io.stratus.runtime.functions.Collector;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.graph.JobGraph;
import io.stratus.runtime.graph.Transformation;
import io.stratus.runtime.graph.WatermarkStrategy;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.sink.TransactionalFileSink;
import io.stratus.runtime.source.Payment;
import io.stratus.runtime.source.PaymentGenerator;
import io.stratus.runtime.source.SourceReader;
import io.stratus.runtime.source.SourceRecord;
import io.stratus.runtime.state.StateDescriptor;
import io.stratus.runtime.state.ValueState;
import io.stratus.store.lsm.StoreOptions;
import io.stratus.store.objectstore.ObjectStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The stateful job the scheduler tests run: payments from one replayable split, keyed by user,
 * a running count and sum per user, one output line per payment into a transactional file sink.
 * With one split each key's records arrive in one order, so the output of two runs can be
 * compared line by line whatever the parallelism, restarts or rescales in between. Public for
 * localstack-tests, which runs it against S3 servers (the scheduler's test-jar).
 */
public final class TotalsJob {

  public static final String OPERATOR = "totals";

  /** Records processed by every task copy, across attempts; where {@link #failAt} counts. */
  static final AtomicLong PROCESSED = new AtomicLong();
  /** Values of {@link #PROCESSED} at which the function throws. */
  static volatile long[] failAt = new long[0];

  private TotalsJob() {}

  /** Counts payments and sums amounts per user; emits {@code user,count,sum} per payment. */
  static final class RunningTotals extends KeyedProcessFunction<Long, Payment, String> {
    private transient ValueState<long[]> totals;

    @Override
    public void open(OpenContext context) {
      totals = context.state(new StateDescriptor.Value<>("totals", Serdes.LONG_ARRAY));
    }

    @Override
    public void processElement(Payment p, Context<Long> context, Collector<String> out) {
      long n = PROCESSED.incrementAndGet();
      for (long at : failAt) {
        if (at == n) {
          throw new IllegalStateException("injected failure at record " + n);
        }
      }
      totals.value().thenAccept(old -> {
        long count = old == null ? 1 : old[0] + 1;
        long sum = (old == null ? 0 : old[1]) + p.amountCents();
        totals.update(new long[] {count, sum});
        out.collect(p.userId() + "," + count + "," + sum);
      });
    }
  }

  /**
   * The job's definition.
   *
   * @param name        job name
   * @param objects     the bucket (output goes there too)
   * @param outputDir   the sink's directory
   * @param localDir    local directory for the rocksdb-local backend
   * @param parallelism the keyed operator's parallelism
   * @param events      payments in the stream
   */
  public static JobDefinition definition(String name, ObjectStore objects, String outputDir,
      Path localDir, int parallelism, long events, CheckpointConfig checkpoints,
      RestartStrategy restarts) {
    return definition(name, objects, outputDir, localDir, parallelism, events, checkpoints,
        restarts, 0);
  }

  /** As above, with the source held to at most {@code perSecond} payments (0: no limit). */
  public static JobDefinition definition(String name, ObjectStore objects, String outputDir,
      Path localDir, int parallelism, long events, CheckpointConfig checkpoints,
      RestartStrategy restarts, long perSecond) {
    RuntimeConfig runtime = RuntimeConfig.defaults().withParallelism(parallelism)
        .withMaxParallelism(64).withStoreOptions(StoreOptions.small().withMaxParallelism(64))
        .withLocalStateDirectory(localDir);
    StreamEnvironment env = StreamEnvironment.plan(runtime);
    env.fromSource(source(events),
            WatermarkStrategy.noWatermarks(), "payments", 1)
        .filter(p -> {
          if (perSecond > 0 && p.id() % 100 == 0) {
            java.util.concurrent.locks.LockSupport.parkNanos(100_000_000_000L / perSecond);
          }
          return true;
        })
        .keyBy(Payment::userId, Serdes.LONG)
        .process(new RunningTotals(), OPERATOR)
        .sinkTo(new TransactionalFileSink<>(objects, outputDir, line -> line));
    JobGraph graph = env.graph(name);
    return new JobDefinition(graph, runtime, checkpoints, restarts);
  }

  private static PaymentGenerator source(long events) {
    return new PaymentGenerator(11, 2_000, events, 1000, 0, 0);
  }

  /** The output a correct run must commit, computed straight from the stream, sorted. */
  public static List<String> expectedOutput(long events) {
    SourceReader<Payment> reader = source(events).createReader(0, 1);
    Map<Long, long[]> totals = new HashMap<>();
    List<String> out = new ArrayList<>();
    for (List<SourceRecord<Payment>> batch = reader.poll(1024); batch != null;
        batch = reader.poll(1024)) {
      for (SourceRecord<Payment> r : batch) {
        Payment p = r.value();
        long[] t = totals.computeIfAbsent(p.userId(), k -> new long[2]);
        t[0]++;
        t[1] += p.amountCents();
        out.add(p.userId() + "," + t[0] + "," + t[1]);
      }
    }
    out.sort(null);
    return out;
  }

  /** The committed output of the job's sink, sorted. */
  public static List<String> committedOutput(JobDefinition job) {
    TransactionalFileSink<?> sink = job.graph().nodes().stream()
        .filter(t -> t instanceof Transformation.SinkNode)
        .map(t -> (TransactionalFileSink<?>) ((Transformation.SinkNode) t).sink())
        .findFirst().orElseThrow();
    List<String> out = new ArrayList<>(sink.readCommitted());
    out.sort(null);
    return out;
  }
}
