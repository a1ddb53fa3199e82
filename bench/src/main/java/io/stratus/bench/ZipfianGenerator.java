package io.stratus.bench;

import java.util.SplittableRandom;

/**
 * Zipfian-distributed integers in {@code [0, n)} (item 0 is the most frequent), with exponent
 * {@code s}; the rejection-free method of Gray et al. ("Quickly generating billion-record
 * synthetic databases"), as in YCSB. Ranks are scrambled by a fixed permutation-like hash so
 * that hot items are spread over the key space, as in real workloads.
 */
public final class ZipfianGenerator {

  private final long n;
  private final double theta;
  private final double alpha;
  private final double zetan;
  private final double eta;
  private final SplittableRandom random;
  private final boolean scrambled;

  public ZipfianGenerator(long n, double s, long seed, boolean scrambled) {
    this.n = n;
    this.theta = s;
    this.alpha = 1.0 / (1.0 - theta);
    this.zetan = zeta(n, theta);
    double zeta2 = zeta(2, theta);
    this.eta = (1 - Math.pow(2.0 / n, 1 - theta)) / (1 - zeta2 / zetan);
    this.random = new SplittableRandom(seed);
    this.scrambled = scrambled;
  }

  private static double zeta(long n, double theta) {
    double sum = 0;
    for (long i = 1; i <= n; i++) {
      sum += 1 / Math.pow(i, theta);
    }
    return sum;
  }

  public long next() {
    double u = random.nextDouble();
    double uz = u * zetan;
    long rank;
    if (uz < 1.0) {
      rank = 0;
    } else if (uz < 1.0 + Math.pow(0.5, theta)) {
      rank = 1;
    } else {
      rank = (long) (n * Math.pow(eta * u - eta + 1, alpha));
    }
    rank = Math.min(rank, n - 1);
    if (!scrambled) {
      return rank;
    }
    return Math.floorMod(rank * 0x9E3779B97F4A7C15L ^ (rank >>> 7), n);
  }
}
