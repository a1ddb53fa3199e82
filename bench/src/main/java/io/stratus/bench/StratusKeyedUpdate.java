package io.stratus.bench;

import io.stratus.runtime.functions.Collector;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.source.Source;
import io.stratus.runtime.source.OffsetReader;
import io.stratus.runtime.source.SourceReader;
import io.stratus.runtime.source.SourceRecord;
import io.stratus.runtime.state.StateDescriptor;
import io.stratus.runtime.state.ValueState;
import java.util.ArrayList;
import java.util.List;

/**
 * The Stratus side of {@link KeyedUpdateWorkload} (the Flink side is {@code FlinkKeyedUpdate}):
 * its source and its update function, used by the side-by-side and the state-size scaling.
 */
public final class StratusKeyedUpdate {

  private StratusKeyedUpdate() {}

  /** Reads each key's 100-byte value and writes the next one. */
  public static final class Update extends KeyedProcessFunction<Long, Long, Long> {
    private final long records;
    private transient ValueState<byte[]> value;

    public Update(long records) {
      this.records = records;
    }

    @Override
    public void open(OpenContext context) {
      value = context.state(new StateDescriptor.Value<>("value", Serdes.BYTES));
    }

    @Override
    public void processElement(Long key, Context<Long> context, Collector<Long> out) {
      value.value().thenAccept(previous -> {
        value.update(BenchKeys.nextValue(key, previous));
        UpdateProgress.completed(records);
      });
    }
  }

  /**
   * 0, 1, 2, ... as fast as the job takes them up to {@code records}, then one per 10 ms: empty
   * polls in between, so the source task waits on a timer instead of blocking its event loop.
   */
  public static final class Sequence implements Source<Long> {
    private final long records;

    public Sequence(long records) {
      this.records = records;
    }

    @Override
    public boolean bounded() {
      return false;
    }

    @Override
    public SourceReader<Long> createReader(int split, int splits) {
      return new OffsetReader<>() {
        private long next;
        private long lastSlow;

        @Override
        public List<SourceRecord<Long>> poll(int max) {
          List<SourceRecord<Long>> out = new ArrayList<>();
          while (out.size() < max && next < records) {
            out.add(new SourceRecord<>(next, Long.MIN_VALUE));
            next++;
          }
          long now = System.currentTimeMillis();
          if (out.isEmpty() && now - lastSlow >= 10) {
            lastSlow = now;
            out.add(new SourceRecord<>(next, Long.MIN_VALUE));
            next++;
          }
          return out;
        }

        @Override
        public long offset() {
          return next;
        }

        @Override
        public void seek(long offset) {
          next = offset;
        }
      };
    }
  }
}
