package io.stratus.store.objectstore;

import java.time.Duration;

/**
 * The delay a remote bucket adds to each request: a time to first byte (with optional random
 * jitter on top) and a per-request bandwidth. 15 ms and 100 MB/s are close to S3 from an
 * instance in the same region.
 *
 * @param firstByteLatency added to every request
 * @param bytesPerSecond   transfer rate of one request's payload; 0 for unlimited
 * @param jitter           up to this much more, uniformly at random, per request
 */
public record NetworkModel(Duration firstByteLatency, long bytesPerSecond, Duration jitter) {

  public NetworkModel {
    if (firstByteLatency.isNegative()) {
      throw new IllegalArgumentException("firstByteLatency must be >= 0, was " + firstByteLatency);
    }
    if (bytesPerSecond < 0) {
      throw new IllegalArgumentException("bytesPerSecond must be >= 0, was " + bytesPerSecond);
    }
    if (jitter.isNegative()) {
      throw new IllegalArgumentException("jitter must be >= 0, was " + jitter);
    }
  }

  /** A latency and bandwidth without jitter. */
  public NetworkModel(Duration firstByteLatency, long bytesPerSecond) {
    this(firstByteLatency, bytesPerSecond, Duration.ZERO);
  }

  /** No added delay. */
  public static NetworkModel none() {
    return new NetworkModel(Duration.ZERO, 0);
  }

  /** Only a first-byte latency. */
  public static NetworkModel latency(Duration firstByte) {
    return new NetworkModel(firstByte, 0);
  }

  /** Transfer time of {@code bytes} of payload alone. */
  public long transferNanos(long bytes) {
    return bytesPerSecond == 0 ? 0 : (long) (bytes * 1e9 / bytesPerSecond);
  }

  /** Delay in nanoseconds for a request moving {@code bytes} of payload. */
  public long delayNanos(long bytes) {
    long transfer = transferNanos(bytes);
    long extra = jitter.isZero() ? 0
        : java.util.concurrent.ThreadLocalRandom.current().nextLong(jitter.toNanos() + 1);
    return firstByteLatency.toNanos() + transfer + extra;
  }
}
