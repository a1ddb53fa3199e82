package io.stratus.cache;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * A lock-free histogram of durations in nanoseconds with about 12% relative precision: eight
 * linear sub-buckets per power of two, up to about 2^40 ns (18 minutes); longer values land in the
 * last bucket. Recording is one array increment, so it is cheap enough for every block load.
 */
public final class LatencyHistogram {

  private static final int SUB_BITS = 3;
  private static final int SUB = 1 << SUB_BITS;
  private static final int MAX_EXP = 40;
  private static final int BUCKETS = (MAX_EXP - SUB_BITS + 2) * SUB;

  private final AtomicLongArray counts = new AtomicLongArray(BUCKETS);
  private final LongAdder total = new LongAdder();
  private final LongAdder sum = new LongAdder();

  /** Records one duration; negative values count as 0. */
  public void record(long nanos) {
    long v = Math.max(0, nanos);
    counts.incrementAndGet(bucketOf(v));
    total.increment();
    sum.add(v);
  }

  static int bucketOf(long v) {
    if (v < SUB) {
      return (int) v;
    }
    int exp = 63 - Long.numberOfLeadingZeros(v);
    if (exp > MAX_EXP) {
      return BUCKETS - 1;
    }
    int sub = (int) ((v >>> (exp - SUB_BITS)) & (SUB - 1));
    return (exp - SUB_BITS + 1) * SUB + sub;
  }

  /** The largest value that falls into {@code bucket}. */
  static long upperBoundOf(int bucket) {
    if (bucket < SUB) {
      return bucket;
    }
    int exp = bucket / SUB + SUB_BITS - 1;
    long sub = bucket % SUB;
    return ((SUB + sub + 1) << (exp - SUB_BITS)) - 1;
  }

  /** Number of recorded values. */
  public long count() {
    return total.sum();
  }

  /** Mean in nanoseconds, or 0 when empty. */
  public double meanNanos() {
    long n = total.sum();
    return n == 0 ? 0 : (double) sum.sum() / n;
  }

  /**
   * The value at quantile {@code q} (0..1) in nanoseconds, as the upper bound of its bucket, or 0
   * when empty.
   */
  public long quantileNanos(double q) {
    if (q < 0 || q > 1) {
      throw new IllegalArgumentException("quantile must be in [0, 1], was " + q);
    }
    long n = 0;
    long[] snapshot = new long[BUCKETS];
    for (int i = 0; i < BUCKETS; i++) {
      snapshot[i] = counts.get(i);
      n += snapshot[i];
    }
    if (n == 0) {
      return 0;
    }
    long rank = Math.max(1, (long) Math.ceil(q * n));
    long seen = 0;
    for (int i = 0; i < BUCKETS; i++) {
      seen += snapshot[i];
      if (seen >= rank) {
        return upperBoundOf(i);
      }
    }
    return upperBoundOf(BUCKETS - 1);
  }

  /** A summary for logs and metrics. */
  public Summary summary() {
    return new Summary(count(), meanNanos(), quantileNanos(0.5), quantileNanos(0.99));
  }

  /** Count, mean, median and 99th percentile in nanoseconds. */
  public record Summary(long count, double meanNanos, long p50Nanos, long p99Nanos) {}
}
