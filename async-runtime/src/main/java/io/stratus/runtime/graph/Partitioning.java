package io.stratus.runtime.graph;

import io.stratus.runtime.functions.KeySelector;
import io.stratus.runtime.serde.Serde;

/**
 * How an edge hands records from the producer's tasks to the consumer's, as Flink's
 * partitioners: {@link Forward} (task i to task i, chained when nothing else stands between
 * them), {@link Hash} (by key group: a {@code keyBy}), {@link Rebalance} (round robin),
 * {@link Shuffle} (uniformly at random), {@link Broadcast} (to every task). {@link Default} is
 * what an edge gets when the job says nothing: forward where the parallelism matches, else
 * rebalance.
 */
public sealed interface Partitioning {

  /** Its name in the job's JSON form and in messages. */
  String describe();

  /** Unspecified: forward if both ends have one parallelism, else rebalance. */
  record Default() implements Partitioning {
    @Override
    public String describe() {
      return "default";
    }
  }

  record Forward() implements Partitioning {
    @Override
    public String describe() {
      return "forward";
    }
  }

  /**
   * By key group of the key's bytes; records of one key go to one task, in order.
   *
   * @param selector the key of a record
   * @param keySerde the key's bytes (deterministic: they decide the key group)
   */
  record Hash(KeySelector<?, ?> selector, Serde<?> keySerde) implements Partitioning {
    @Override
    public String describe() {
      return "hash";
    }
  }

  record Rebalance() implements Partitioning {
    @Override
    public String describe() {
      return "rebalance";
    }
  }

  record Shuffle() implements Partitioning {
    @Override
    public String describe() {
      return "shuffle";
    }
  }

  record Broadcast() implements Partitioning {
    @Override
    public String describe() {
      return "broadcast";
    }
  }
}
