package io.stratus.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LatencyHistogramTest {

  /** Values at or above this all share the last bucket (documented: "up to about 2^40 ns"). */
  private static final long TOP = 1L << 41;

  private static void assertBucketFits(long v) {
    int bucket = LatencyHistogram.bucketOf(v);
    long upper = LatencyHistogram.upperBoundOf(bucket);
    assertTrue(upper >= v, "upper bound " + upper + " of bucket " + bucket + " below " + v);
    if (v >= 8) {
      // 12.5%: eight linear sub-buckets per power of two.
      assertTrue(upper - v <= v / 8, "bucket " + bucket + " of " + v + " too wide: " + upper);
    } else {
      assertEquals(v, upper, "values below 8 are exact");
    }
    if (bucket > 0) {
      // The bucket is the tightest: the previous one ends below v.
      assertTrue(LatencyHistogram.upperBoundOf(bucket - 1) < v,
          "value " + v + " should be in an earlier bucket than " + bucket);
    }
  }

  @Test
  void everySmallValueFallsInATightBucket() {
    for (long v = 0; v < 1 << 16; v++) {
      assertBucketFits(v);
    }
  }

  @Test
  void powerOfTwoEdgesAndRandomLargeValuesFallInTightBuckets() {
    for (int exp = 3; exp < 41; exp++) {
      long p = 1L << exp;
      assertBucketFits(p - 1);
      assertBucketFits(p);
      assertBucketFits(p + 1);
    }
    long seed = new Random().nextLong();
    Random random = new Random(seed);
    for (int i = 0; i < 200_000; i++) {
      long v = 8 + (long) (Math.pow(2, random.nextDouble() * 40.99));
      v = Math.min(v, TOP - 1);
      try {
        assertBucketFits(v);
      } catch (AssertionError e) {
        throw new AssertionError("seed " + seed + ": " + e.getMessage(), e);
      }
    }
  }

  @Test
  void bucketsAreContiguousAndIncreasing() {
    int last = LatencyHistogram.bucketOf(TOP - 1);
    for (int b = 0; b < last; b++) {
      long upper = LatencyHistogram.upperBoundOf(b);
      assertEquals(b, LatencyHistogram.bucketOf(upper), "upper bound of " + b);
      assertEquals(b + 1, LatencyHistogram.bucketOf(upper + 1), "value after bucket " + b);
    }
    // Beyond the range everything is clamped into the last bucket rather than overflowing.
    assertEquals(last, LatencyHistogram.bucketOf(Long.MAX_VALUE));
  }

  @Test
  void quantilesOfOneToThousand() {
    LatencyHistogram h = new LatencyHistogram();
    for (int v = 1000; v >= 1; v--) {
      h.record(v);
    }
    assertEquals(1000, h.count());
    assertEquals(500.5, h.meanNanos(), 1e-9);
    // Reported as the upper bound of the value's bucket: 500 is in [480, 511], 990 in [960, 1023].
    assertEquals(511, h.quantileNanos(0.5));
    assertEquals(1023, h.quantileNanos(0.99));
    assertEquals(1, h.quantileNanos(0));
    assertEquals(1, h.quantileNanos(0.001));
    assertEquals(1023, h.quantileNanos(1));
    LatencyHistogram.Summary s = h.summary();
    assertEquals(new LatencyHistogram.Summary(1000, 500.5, 511, 1023), s);
  }

  @Test
  void quantilesMatchTheExactOrderStatisticUpToItsBucket() {
    long seed = new Random().nextLong();
    Random random = new Random(seed);
    LatencyHistogram h = new LatencyHistogram();
    long[] values = new long[5_000];
    for (int i = 0; i < values.length; i++) {
      // Log-normal-ish, like latencies: mostly around 1 ms, a tail to seconds.
      values[i] = (long) Math.exp(13.8 + 1.5 * random.nextGaussian());
      h.record(values[i]);
    }
    Arrays.sort(values);
    for (double q : new double[] {0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1.0}) {
      long exact = values[(int) Math.max(1, Math.ceil(q * values.length)) - 1];
      long reported = h.quantileNanos(q);
      assertEquals(LatencyHistogram.upperBoundOf(LatencyHistogram.bucketOf(exact)), reported,
          "seed " + seed + " q " + q + " exact " + exact);
      assertTrue(reported >= exact && reported - exact <= exact / 8,
          "seed " + seed + " q " + q + " exact " + exact + " reported " + reported);
    }
  }

  @Test
  void emptyHistogramAndOutOfRangeInputs() {
    LatencyHistogram h = new LatencyHistogram();
    assertEquals(new LatencyHistogram.Summary(0, 0, 0, 0), h.summary());
    h.record(-5);
    assertEquals(1, h.count());
    assertEquals(0, h.quantileNanos(1));
    assertEquals(0.0, h.meanNanos());
    assertEquals("quantile must be in [0, 1], was 1.5",
        assertThrows(IllegalArgumentException.class, () -> h.quantileNanos(1.5)).getMessage());
    assertThrows(IllegalArgumentException.class, () -> h.quantileNanos(-0.1));
  }

  @Test
  void concurrentRecordsAreAllCounted() throws Exception {
    LatencyHistogram h = new LatencyHistogram();
    Thread[] threads = new Thread[4];
    for (int t = 0; t < threads.length; t++) {
      threads[t] = new Thread(() -> {
        for (int i = 1; i <= 50_000; i++) {
          h.record(i);
        }
      });
      threads[t].start();
    }
    for (Thread t : threads) {
      t.join();
    }
    assertEquals(200_000, h.count());
    assertEquals(25_000.5, h.meanNanos(), 1e-6);
  }
}
