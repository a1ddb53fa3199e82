package io.stratus.network;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How a worker's data plane listens, buffers and authenticates. Every field is checked when
 * the config is built, with a message naming the field; {@link #defaults()} works on a laptop
 * (loopback, any free port, no secret).
 *
 * @param bindHost          the address the data server binds to; without a {@code secret} it
 *                          must be a loopback address (unauthenticated peers must not reach it)
 * @param port              the data server's port; 0 picks a free one
 * @param bufferBytes       size of the pooled buffers records are serialized into; a buffer is
 *                          sent when full, on a barrier or end of input, or at the flush timeout
 * @param flushTimeout      how long a partly filled buffer may wait before it is sent; zero
 *                          sends after every element (lowest latency, most frames)
 * @param creditsPerChannel buffers a consumer can take per channel before it returns credit: the
 *                          bound on memory per channel and how far a producer may run ahead
 * @param maxFrameBytes     the largest frame accepted (a record bigger than a buffer travels in
 *                          a frame of its own); larger frames close the connection
 * @param connectTimeout    time to connect and finish the handshake
 * @param peerTimeout       a connection on which nothing arrived for this long is closed (each
 *                          side sends a ping after a third of it without traffic)
 * @param ioThreads         Netty event-loop threads for the connections
 * @param secret            the shared cluster secret both ends prove they hold (HMAC-SHA256);
 *                          null for none (loopback only)
 * @param tls               certificates for TLS on every connection; null for plain TCP
 * @param debloatTarget     while a consumer is slower than its producer, the producer seals
 *                          buffers early so that what waits in the channel (the consumer's
 *                          credits plus one buffer) is about this much of the consumer's
 *                          throughput: a barrier behind it waits no longer (Flink's buffer
 *                          debloating, done by the producer); zero always fills buffers
 */
public record DataPlaneConfig(String bindHost, int port, int bufferBytes, Duration flushTimeout,
    int creditsPerChannel, int maxFrameBytes, Duration connectTimeout, Duration peerTimeout,
    int ioThreads, String secret, Tls tls, Duration debloatTarget) {

  /**
   * TLS certificates, as PEM files: this worker's certificate chain and its PKCS#8 private key,
   * and the certificates it trusts for its peers (both ends present and check a certificate).
   */
  public record Tls(Path certificateChain, Path privateKey, Path trustedCertificates) {
    public Tls {
      requireReadable("tls.certificateChain", certificateChain);
      requireReadable("tls.privateKey", privateKey);
      requireReadable("tls.trustedCertificates", trustedCertificates);
    }

    private static void requireReadable(String field, Path file) {
      if (file == null) {
        throw new IllegalArgumentException("data plane " + field + " is missing");
      }
      if (!Files.isReadable(file)) {
        throw new IllegalArgumentException("data plane " + field + " " + file
            + " is not a readable file");
      }
    }
  }

  public DataPlaneConfig {
    if (bindHost == null || bindHost.isBlank()) {
      throw new IllegalArgumentException("data plane bindHost is missing");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("data plane port must be 0..65535, got " + port);
    }
    if (bufferBytes < 1024 || bufferBytes > 16 << 20) {
      throw new IllegalArgumentException("data plane bufferBytes must be 1 KiB..16 MiB, got "
          + bufferBytes);
    }
    if (flushTimeout == null || flushTimeout.isNegative()) {
      throw new IllegalArgumentException("data plane flushTimeout must be zero or positive");
    }
    if (creditsPerChannel < 1 || creditsPerChannel > 1024) {
      throw new IllegalArgumentException("data plane creditsPerChannel must be 1..1024, got "
          + creditsPerChannel);
    }
    if (maxFrameBytes < bufferBytes) {
      throw new IllegalArgumentException("data plane maxFrameBytes (" + maxFrameBytes
          + ") must be at least bufferBytes (" + bufferBytes + ")");
    }
    if (debloatTarget == null || debloatTarget.isNegative()) {
      throw new IllegalArgumentException("data plane debloatTarget must be zero or positive");
    }
    requirePositive("connectTimeout", connectTimeout);
    requirePositive("peerTimeout", peerTimeout);
    if (ioThreads < 1) {
      throw new IllegalArgumentException("data plane ioThreads must be at least 1, got "
          + ioThreads);
    }
    if (secret != null && secret.length() < 16) {
      throw new IllegalArgumentException("the cluster secret must have at least 16 characters");
    }
    if (secret == null && !isLoopback(bindHost)) {
      throw new IllegalArgumentException("the data plane binds to " + bindHost
          + " without a cluster secret: without one it binds to loopback only (set a cluster"
          + " secret, or bind to 127.0.0.1)");
    }
  }

  /**
   * Loopback, any port, 32 KiB buffers flushed after 10 ms, 4 credits per channel, no
   * debloating (a consumer whose cost is per buffer rather than per byte slows down as its
   * buffers shrink, and the size follows it down: see docs/data-plane.md).
   */
  public static DataPlaneConfig defaults() {
    return new DataPlaneConfig("127.0.0.1", 0, 32 * 1024, Duration.ofMillis(10), 4, 64 << 20,
        Duration.ofSeconds(10), Duration.ofSeconds(15), 1, null, null, Duration.ZERO);
  }

  public DataPlaneConfig withBind(String host, int port) {
    return new DataPlaneConfig(host, port, bufferBytes, flushTimeout, creditsPerChannel,
        maxFrameBytes, connectTimeout, peerTimeout, ioThreads, secret, tls, debloatTarget);
  }

  public DataPlaneConfig withBuffers(int bufferBytes, Duration flushTimeout,
      int creditsPerChannel) {
    return new DataPlaneConfig(bindHost, port, bufferBytes, flushTimeout, creditsPerChannel,
        Math.max(maxFrameBytes, bufferBytes), connectTimeout, peerTimeout, ioThreads, secret,
        tls, debloatTarget);
  }

  public DataPlaneConfig withTimeouts(Duration connectTimeout, Duration peerTimeout) {
    return new DataPlaneConfig(bindHost, port, bufferBytes, flushTimeout, creditsPerChannel,
        maxFrameBytes, connectTimeout, peerTimeout, ioThreads, secret, tls, debloatTarget);
  }

  public DataPlaneConfig withSecret(String secret) {
    return new DataPlaneConfig(bindHost, port, bufferBytes, flushTimeout, creditsPerChannel,
        maxFrameBytes, connectTimeout, peerTimeout, ioThreads, secret, tls, debloatTarget);
  }

  public DataPlaneConfig withTls(Tls tls) {
    return new DataPlaneConfig(bindHost, port, bufferBytes, flushTimeout, creditsPerChannel,
        maxFrameBytes, connectTimeout, peerTimeout, ioThreads, secret, tls, debloatTarget);
  }

  public DataPlaneConfig withDebloatTarget(Duration debloatTarget) {
    return new DataPlaneConfig(bindHost, port, bufferBytes, flushTimeout, creditsPerChannel,
        maxFrameBytes, connectTimeout, peerTimeout, ioThreads, secret, tls, debloatTarget);
  }

  /** The secret stays out of logs and exception messages. */
  @Override
  public String toString() {
    return "DataPlaneConfig[bind=" + bindHost + ":" + port + ", buffer=" + bufferBytes
        + " B, flushTimeout=" + flushTimeout.toMillis() + " ms, credits=" + creditsPerChannel
        + ", maxFrame=" + maxFrameBytes + " B, connectTimeout=" + connectTimeout.toMillis()
        + " ms, peerTimeout=" + peerTimeout.toMillis() + " ms, ioThreads=" + ioThreads
        + ", secret=" + (secret == null ? "none" : "set") + ", tls=" + (tls != null)
        + ", debloatTarget=" + debloatTarget.toMillis() + " ms]";
  }

  private static void requirePositive(String field, Duration d) {
    if (d == null || d.isZero() || d.isNegative()) {
      throw new IllegalArgumentException("data plane " + field + " must be positive");
    }
  }

  static boolean isLoopback(String host) {
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("data plane bindHost " + host + " is unknown", e);
    }
  }
}
