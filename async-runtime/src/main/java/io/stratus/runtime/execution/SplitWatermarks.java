package io.stratus.runtime.execution;

import io.stratus.runtime.graph.WatermarkStrategy;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * A source task's watermark when its reader reads several splits (Kafka partitions): one
 * generator per split, merged as the minimum over the splits that are active. A split is idle
 * once it has had no record for the strategy's idleness timeout (one that never had a record,
 * that long after the task started); an idle split does not hold the watermark back, so one
 * empty partition does not freeze the job. Without an idleness timeout every split the reader
 * owns counts, and one that never had a record keeps the watermark at its minimum: windows wait
 * for it, as in Flink.
 */
final class SplitWatermarks {

  private final WatermarkStrategy strategy;
  private final long startedAt;
  private final Map<String, Split> splits = new HashMap<>();

  private static final class Split {
    final WatermarkStrategy.Generator generator;
    long lastRecordAt;

    Split(WatermarkStrategy.Generator generator) {
      this.generator = generator;
    }
  }

  SplitWatermarks(WatermarkStrategy strategy, long startedAt) {
    this.strategy = strategy;
    this.startedAt = startedAt;
  }

  /** Whether any record so far came with a split name. */
  boolean hasSplits() {
    return !splits.isEmpty();
  }

  void onEvent(String split, long timestamp, long now) {
    Split s = splits.computeIfAbsent(split, k -> new Split(strategy.createGenerator()));
    s.generator.onEvent(timestamp);
    s.lastRecordAt = now;
  }

  /**
   * The merged watermark over {@code owned} (the reader's splits) and those that had records;
   * {@link Long#MIN_VALUE} while an active split has none yet or when every split is idle
   * (the task's own idleness then speaks for it).
   */
  long current(Set<String> owned, long now) {
    long idleness = strategy.idleness().toMillis();
    long min = Long.MAX_VALUE;
    boolean active = false;
    for (String name : owned) {
      Split s = splits.get(name);
      long quietSince = s == null ? startedAt : s.lastRecordAt;
      if (idleness > 0 && now - quietSince >= idleness) {
        continue;
      }
      active = true;
      min = Math.min(min, s == null ? Long.MIN_VALUE : s.generator.currentWatermark());
    }
    for (Map.Entry<String, Split> e : splits.entrySet()) {
      if (owned.contains(e.getKey())
          || idleness > 0 && now - e.getValue().lastRecordAt >= idleness) {
        continue;
      }
      active = true;
      min = Math.min(min, e.getValue().generator.currentWatermark());
    }
    return active ? min : Long.MIN_VALUE;
  }
}
