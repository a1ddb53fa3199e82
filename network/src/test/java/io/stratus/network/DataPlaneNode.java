package io.stratus.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A worker-like process for {@link DataPlaneProcessTest}: one data plane, and either a consumer
 * that checks every channel's records (sequence, content) or a producer that sends numbered
 * records over several channels. Behaviour comes from the command line only; results are lines
 * on standard output.
 *
 * <pre>
 * consumer --id ID [--slow KEY:MILLIS_PER_BUFFER] [--stop KEY:AFTER_BUFFERS]
 * producer --id ID --to PEER=HOST:PORT --records N,N,... [--record-bytes B] [--key-prefix P]
 * </pre>
 */
public final class DataPlaneNode {

  private DataPlaneNode() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = new HashMap<>();
    for (int i = 1; i + 1 < args.length; i += 2) {
      opts.put(args[i].substring(2), args[i + 1]);
    }
    if (args[0].equals("consumer")) {
      consumer(opts);
    } else {
      producer(opts);
    }
  }

  private static void print(String line) {
    synchronized (System.out) {
      System.out.println(line);
      System.out.flush();
    }
  }

  private static void consumer(Map<String, String> opts) throws InterruptedException {
    String[] slow = opts.getOrDefault("slow", ":0").split(":");
    String[] stop = opts.getOrDefault("stop", ":0").split(":");
    ChannelAcceptor acceptor = (peer, key) -> {
      print("opened " + key);
      return consumerOf(key, slow, stop);
    };
    DataPlane plane = new DataPlane(opts.get("id"), DataPlaneConfig.defaults(), acceptor);
    InetSocketAddress address = plane.start().join();
    print("listening " + address.getHostString() + ":" + address.getPort());
    Thread.sleep(Long.MAX_VALUE);
  }

  /** Checks one channel's records on a thread of its own. */
  private static InboundChannel consumerOf(String key, String[] slow, String[] stop) {
    return new InboundChannel() {
      final ExecutorService thread = Executors.newSingleThreadExecutor();
      long expected;
      long buffers;
      /** From the channel's first buffer (not its OPEN: the producer may still be starting). */
      long start;
      boolean violated;

      @Override
      public void onBuffer(ByteBuf payload, Runnable recycle) {
        thread.execute(() -> {
          if (buffers == 0) {
            start = System.nanoTime();
          }
          try {
            consume(payload);
          } finally {
            payload.release();
          }
          buffers++;
          if (key.equals(slow[0])) {
            sleep(Long.parseLong(slow[1]));
          }
          if (!(key.equals(stop[0]) && buffers >= Long.parseLong(stop[1]))) {
            recycle.run();
          }
        });
      }

      private void consume(ByteBuf payload) {
        while (payload.isReadable() && !violated) {
          int size = payload.readInt();
          long seq = payload.readLong();
          if (seq == -1) {
            print("complete " + key + " " + expected + " "
                + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            return;
          }
          if (seq != expected) {
            violated = true;
            print("violation " + key + " expected " + expected + " got " + seq);
            return;
          }
          for (int i = 0; i < size - 8; i++) {
            if (payload.readByte() != (byte) (seq + i)) {
              violated = true;
              print("violation " + key + " corrupt record " + seq);
              return;
            }
          }
          expected++;
        }
      }

      @Override
      public void onFailure(PeerConnectionException error) {
        print("failed " + key + " " + error.getMessage());
      }
    };
  }

  private static void producer(Map<String, String> opts) throws InterruptedException {
    DataPlane plane = new DataPlane(opts.get("id"), DataPlaneConfig.defaults(),
        (p, k) -> {
          throw new IllegalArgumentException("a producer takes no channels");
        });
    InetSocketAddress self = plane.start().join();
    print("listening " + self.getHostString() + ":" + self.getPort());
    String[] to = opts.get("to").split("=");
    String[] hostPort = to[1].split(":");
    InetSocketAddress peer = new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1]));
    int recordBytes = Integer.parseInt(opts.getOrDefault("record-bytes", "100"));
    String prefix = opts.getOrDefault("key-prefix", "ch");
    String[] counts = opts.get("records").split(",");
    List<OutboundChannel> channels = new ArrayList<>();
    long[] remaining = new long[counts.length];
    long[] sent = new long[counts.length];
    for (int c = 0; c < counts.length; c++) {
      OutboundChannel ch = plane.open(to[0], peer, prefix + c);
      String key = ch.key();
      ch.onFailure(e -> print("failed " + key + " " + e.getMessage()));
      channels.add(ch);
      remaining[c] = Long.parseLong(counts[c]);
    }
    long start = System.nanoTime();
    long maxMemory = 0;
    int open = counts.length;
    boolean[] done = new boolean[counts.length];
    while (open > 0) {
      boolean progressed = false;
      for (int c = 0; c < channels.size(); c++) {
        OutboundChannel ch = channels.get(c);
        if (done[c] || ch.failure() != null) {
          continue;
        }
        for (int n = 0; n < 64 && remaining[c] > 0 && ch.hasCapacity(); n++) {
          write(ch, sent[c]++, recordBytes);
          remaining[c]--;
          progressed = true;
        }
        if (remaining[c] == 0 && ch.hasCapacity()) {
          ByteBuf b = ch.reserve(12);
          b.writeInt(8).writeLong(-1);
          ch.commit(true);
          ch.close();
          done[c] = true;
          open--;
          print("sent " + ch.key() + " " + sent[c] + " "
              + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        }
      }
      ByteBufAllocatorMetric metric =
          ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric();
      long used = metric.usedDirectMemory() + metric.usedHeapMemory();
      if (used > maxMemory) {
        maxMemory = used;
        print("memory " + maxMemory);
      }
      if (!progressed) {
        Thread.sleep(1);
      }
    }
    Thread.sleep(Duration.ofSeconds(1).toMillis());
    print("done");
    plane.close();
  }

  private static void write(OutboundChannel ch, long seq, int recordBytes) {
    ByteBuf b = ch.reserve(4 + recordBytes);
    b.writeInt(recordBytes);
    b.writeLong(seq);
    for (int i = 0; i < recordBytes - 8; i++) {
      b.writeByte((byte) (seq + i));
    }
    ch.commit(false);
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
