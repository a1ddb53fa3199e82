package io.stratus.store.objectstore;

import java.time.Duration;

/**
 * The delay a remote bucket adds to each request: a fixed time to first byte and a per-request
 * bandwidth. 15 ms and 100 MB/s are close to S3 from an instance in the same region.
 *
 * @param firstByteLatency added to every request
 * @param bytesPerSecond   transfer rate of one request's payload; 0 for unlimited
 */
public record NetworkModel(Duration firstByteLatency, long bytesPerSecond) {

  public NetworkModel {
    if (firstByteLatency.isNegative()) {
      throw new IllegalArgumentException("firstByteLatency must be >= 0, was " + firstByteLatency);
    }
    if (bytesPerSecond < 0) {
      throw new IllegalArgumentException("bytesPerSecond must be >= 0, was " + bytesPerSecond);
    }
  }

  /** No added delay. */
  public static NetworkModel none() {
    return new NetworkModel(Duration.ZERO, 0);
  }

  /** Only a first-byte latency. */
  public static NetworkModel latency(Duration firstByte) {
    return new NetworkModel(firstByte, 0);
  }

  /** Delay in nanoseconds for a request moving {@code bytes} of payload. */
  public long delayNanos(long bytes) {
    long transfer = bytesPerSecond == 0 ? 0 : (long) (bytes * 1e9 / bytesPerSecond);
    return firstByteLatency.toNanos() + transfer;
  }
}
