package io.stratus.runtime.execution;

import io.stratus.bench.BenchArgs;
import io.stratus.bench.BenchReport;
import io.stratus.bench.ChildJvm;
import io.stratus.network.DataPlaneConfig;
import java.net.ServerSocket;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * {@code bench/run data-plane}: records of 100-byte values from a producer task in this JVM to a
 * consumer task in a child JVM over loopback, through the runtime's own path (a
 * {@link RemoteTarget} per channel into the consumer's {@link TaskInbox}, decoded there as a
 * task would). Throughput with 1 and 4 channels as fast as credits allow; latency (producer
 * write → consumer poll, both on this machine's monotonic clock) at a paced rate.
 */
public final class DataPlaneBenchmark {

  private static final String JOB = "bench";

  private DataPlaneBenchmark() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = BenchArgs.parse(args);
    if (a.containsKey("--consumer")) {
      consumer(a);
      return;
    }
    boolean quick = Boolean.parseBoolean(a.getOrDefault("--quick", "false"));
    long records = Long.parseLong(a.getOrDefault("--records", quick ? "2000000" : "20000000"));
    int rate = Integer.parseInt(a.getOrDefault("--rate", "10000"));
    int latencySeconds = Integer.parseInt(a.getOrDefault("--latency-seconds",
        quick ? "5" : "20"));
    int rounds = Integer.parseInt(a.getOrDefault("--rounds", quick ? "1" : "3"));
    int bufferBytes = Integer.parseInt(a.getOrDefault("--buffer-bytes", "32768"));
    BenchReport report = new BenchReport("data-plane", quick);
    report.config("records", records).config("valueBytes", 100)
        .config("bufferBytes", bufferBytes).config("rounds", rounds)
        .config("latencyRate", rate).config("latencySeconds", latencySeconds);
    for (int r = 1; r <= rounds; r++) {
      for (int channels : new int[] {1, 4}) {
        report.row(run("throughput", channels, records, 0, bufferBytes, 10, r));
      }
      for (int flushMs : new int[] {10, 1}) {
        report.row(run("latency", 1, (long) rate * latencySeconds, rate, bufferBytes, flushMs,
            r));
      }
    }
    report.note("Throughput: records/s from the consumer's first record to the end of its last"
        + " channel, producer"
        + " in this JVM, consumer in a child JVM (one task thread and one Netty event loop"
        + " each, both on this machine's cores). Latency: paced at the rate given, from the"
        + " producer's write to the consumer task's poll (the first second left out).");
    Path md = report.write();
    System.out.println("wrote " + md);
  }

  private static Map<String, Object> run(String kind, int channels, long records, int rate,
      int bufferBytes, int flushMs, int round) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Path dir = Files.createTempDirectory("data-plane-bench");
    List<String> childArgs = List.of("--consumer", "true", "--port", String.valueOf(port),
        "--channels", String.valueOf(channels), "--buffer-bytes", String.valueOf(bufferBytes),
        "--flush-ms", String.valueOf(flushMs));
    CompletableFuture<Map<String, Object>> consumer = CompletableFuture.supplyAsync(() -> {
      try {
        return ChildJvm.run("consumer", System.getProperty("java.class.path"),
            DataPlaneBenchmark.class.getName(), childArgs, dir, List.of("-Xmx1g"), 0, Map.of())
            .get(0);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    DataPlaneConfig config = config(bufferBytes, flushMs);
    try (ChannelRegistry registry = new ChannelRegistry("producer", config)) {
      TaskPlacement placement = new TaskPlacement("producer", Map.of("1/0", "consumer"),
          Map.of("consumer", "127.0.0.1:" + port));
      TaskSpec producer = new TaskSpec(JOB, 0, 0, 0, 1, null, null, List.of(), null);
      List<ChannelTarget> targets = new ArrayList<>();
      for (int c = 0; c < channels; c++) {
        targets.add(connect(registry, producer, placement, c));
      }
      byte[] value = new byte[100];
      long perChannel = records / channels;
      long intervalNanos = rate == 0 ? 0 : 1_000_000_000L / rate;
      long next = System.nanoTime();
      for (long i = 0; i < perChannel; i++) {
        for (ChannelTarget t : targets) {
          while (!t.hasSpace()) {
            LockSupport.parkNanos(20_000);
          }
          if (intervalNanos > 0) {
            next += intervalNanos;
            while (System.nanoTime() < next) {
              LockSupport.parkNanos(Math.max(1, next - System.nanoTime() - 50_000));
            }
          }
          // The send time rides in the timestamp where latency is measured (as an event
          // time would, in a job); a throughput run does not pay for reading the clock.
          t.offer(new StreamElement.Record(0, value, intervalNanos > 0 ? System.nanoTime() : 0,
              null, -1));
        }
      }
      for (ChannelTarget t : targets) {
        t.offer(new StreamElement.End(0));
      }
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("kind", kind);
      row.put("channels", channels);
      row.put("flushMs", flushMs);
      row.put("round", round);
      row.putAll(consumer.join());
      return row;
    }
  }

  /** Opens a channel, retrying while the child's data server is not up yet. */
  private static ChannelTarget connect(ChannelRegistry registry, TaskSpec producer,
      TaskPlacement placement, int input) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (true) {
      RemoteTarget t = (RemoteTarget) registry.target(producer, placement, 1, 0, input, 1);
      try {
        // Idleness is sent at once (and ignored by the consumer): it shows the channel works.
        t.offer(new StreamElement.WatermarkStatus(0, false));
      } catch (io.stratus.network.PeerConnectionException e) {
        Thread.sleep(200);
        continue;
      }
      while (t.channel().failure() == null && t.channel().framesSent() == 0) {
        Thread.sleep(10);
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the consumer JVM did not take a channel in 60 s");
        }
      }
      if (t.channel().failure() == null) {
        return t;
      }
      Thread.sleep(200);
    }
  }

  private static DataPlaneConfig config(int bufferBytes, int flushMs) {
    return DataPlaneConfig.defaults().withBuffers(bufferBytes, Duration.ofMillis(flushMs),
        DataPlaneConfig.defaults().creditsPerChannel());
  }

  /** The child: one consumer task's inbox with {@code --channels} inputs, read in a loop. */
  private static void consumer(Map<String, String> a) throws Exception {
    int channels = Integer.parseInt(a.get("--channels"));
    DataPlaneConfig config = config(Integer.parseInt(a.get("--buffer-bytes")),
        Integer.parseInt(a.get("--flush-ms"))).withBind("127.0.0.1",
        Integer.parseInt(a.get("--port")));
    try (ChannelRegistry registry = new ChannelRegistry("consumer", config)) {
      TaskInbox inbox = registry.inbox(JOB, 0, 1, 0, 1000);
      Thread self = Thread.currentThread();
      inbox.onAvailable(() -> LockSupport.unpark(self));
      Histogram latency = new Histogram(Duration.ofSeconds(10).toNanos(), 3);
      long records = 0;
      long first = 0;
      long last = 0;
      int ended = 0;
      while (ended < channels) {
        StreamElement e = inbox.poll();
        if (e == null) {
          inbox.consumerIdle();
          LockSupport.parkNanos(1_000_000);
          continue;
        }
        if (e instanceof StreamElement.Record r) {
          records++;
          if (r.timestamp() != 0) {
            long now = System.nanoTime();
            if (first == 0) {
              first = now;
            }
            last = now;
            if (now - first > 1_000_000_000L) {
              latency.recordValue(Math.min(Math.max(0, now - r.timestamp()),
                  latency.getHighestTrackableValue()));
            }
          } else if (first == 0) {
            first = System.nanoTime();
          }
        } else if (e instanceof StreamElement.End) {
          ended++;
          last = Math.max(last, System.nanoTime());
        }
      }
      Map<String, Object> out = new LinkedHashMap<>();
      double seconds = (last - first) / 1e9;
      out.put("records", records);
      out.put("seconds", seconds);
      out.put("recordsPerSecond", records / seconds);
      out.put("mbPerSecond", records * 100 / seconds / 1e6);
      out.put("p50Ms", latency.getValueAtPercentile(50) / 1e6);
      out.put("p99Ms", latency.getValueAtPercentile(99) / 1e6);
      out.put("p999Ms", latency.getValueAtPercentile(99.9) / 1e6);
      out.put("maxMs", latency.getMaxValue() / 1e6);
      ChildJvm.result(out);
    }
  }
}
