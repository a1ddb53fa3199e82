package io.stratus.runtime.execution;

import io.netty.buffer.ByteBuf;
import io.stratus.network.ChannelAcceptor;
import io.stratus.network.DataPlane;
import io.stratus.network.DataPlaneConfig;
import io.stratus.network.InboundChannel;
import io.stratus.network.PeerConnectionException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The channels of the tasks in this process, found by (job attempt, vertex, subtask) whatever
 * order tasks are built in. Inboxes are local; a producer reaches a consumer in this process
 * through its inbox, and a consumer on another worker through this process's {@link DataPlane}
 * (if it has one), which delivers to the consumer's inbox over there. The channel's name on the
 * wire is {@code attempt/vertex/subtask/input/job}.
 */
public final class ChannelRegistry implements ChannelAcceptor, AutoCloseable {

  private record Key(String job, int attempt, int vertex, int subtask) {}

  private record Attempt(String job, int attempt) {}

  /** Released attempts are remembered this many per job: no channel of one is ever late by more. */
  private static final int RELEASED_KEPT = 16;

  private final Map<Key, TaskInbox> inboxes = new ConcurrentHashMap<>();
  private final Map<Key, List<RemoteTarget>> remotes = new ConcurrentHashMap<>();
  /**
   * Attempts released here: a channel a producer opens late for one of them is drained and
   * freed, not given an inbox no task will read; a task of one built late cannot open channels.
   */
  private final java.util.Set<Attempt> released = ConcurrentHashMap.newKeySet();
  private final DataPlane dataPlane;

  /** Channels within this process only (the embedded cluster, the local runner). */
  public ChannelRegistry() {
    this.dataPlane = null;
  }

  /**
   * Channels within this process and, over a data server started now, to and from the workers
   * of other processes.
   *
   * @throws IllegalStateException if the data server cannot bind (naming the address)
   */
  public ChannelRegistry(String workerId, DataPlaneConfig config) {
    this.dataPlane = new DataPlane(workerId, config, this);
    try {
      dataPlane.start().join();
    } catch (java.util.concurrent.CompletionException e) {
      dataPlane.close();
      throw e.getCause() instanceof RuntimeException r ? r : e;
    }
  }

  /** The data server's {@code host:port}; null without a data plane. */
  public String dataAddress() {
    if (dataPlane == null) {
      return null;
    }
    InetSocketAddress a = dataPlane.address();
    return a.getHostString() + ":" + a.getPort();
  }

  public DataPlane dataPlane() {
    return dataPlane;
  }

  /**
   * The inbox of a task, made on first use.
   *
   * @param capacity the bound on local records queued there; 0 leaves it as it is (a remote
   *                 producer's channel: the task sets it when it is built)
   */
  TaskInbox inbox(String job, int attempt, int vertex, int subtask, int capacity) {
    TaskInbox inbox = inboxes.computeIfAbsent(new Key(job, attempt, vertex, subtask),
        k -> new TaskInbox(capacity));
    if (capacity > 0) {
      inbox.capacity(capacity);
    }
    return inbox;
  }

  /**
   * Channel {@code input} of task {@code subtask} of {@code vertex}, as the producer
   * {@code producer} reaches it: its inbox if placed in this process, else over the network.
   */
  ChannelTarget target(TaskSpec producer, TaskPlacement placement, int vertex, int subtask,
      int input, int capacity) {
    if (released.contains(new Attempt(producer.job(), producer.attempt()))) {
      throw new IllegalStateException("attempt " + producer.attempt() + " of "
          + producer.job() + " was canceled");
    }
    String worker = placement.remoteWorker(vertex, subtask);
    if (worker == null) {
      return inbox(producer.job(), producer.attempt(), vertex, subtask, capacity);
    }
    if (dataPlane == null) {
      throw new IllegalStateException("task " + vertex + "/" + subtask + " runs on worker "
          + worker + ", but this process has no data plane");
    }
    RemoteTarget target = new RemoteTarget(dataPlane.open(worker, placement.address(worker),
        producer.attempt() + "/" + vertex + "/" + subtask + "/" + input + "/" + producer.job()));
    remotes.computeIfAbsent(new Key(producer.job(), producer.attempt(), vertex, subtask),
        k -> java.util.Collections.synchronizedList(new ArrayList<>())).add(target);
    return target;
  }

  /** A producer on another worker opened a channel to a task here. */
  @Override
  public InboundChannel accept(String peer, String key) {
    String[] p = key.split("/", 5);
    if (p.length != 5) {
      throw new IllegalArgumentException("channel name '" + key + "' is not"
          + " attempt/vertex/subtask/input/job");
    }
    int input;
    TaskInbox inbox;
    try {
      input = Integer.parseInt(p[3]);
      int attempt = Integer.parseInt(p[0]);
      if (released.contains(new Attempt(p[4], attempt))) {
        return DRAIN;
      }
      inbox = inbox(p[4], attempt, Integer.parseInt(p[1]), Integer.parseInt(p[2]), 0);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("channel name '" + key + "': " + e.getMessage(), e);
    }
    return new InboundChannel() {
      @Override
      public void onBuffer(ByteBuf payload, Runnable recycle) {
        try {
          ElementCodec.validate(payload);
        } catch (IllegalArgumentException e) {
          payload.release();
          throw new IllegalArgumentException("a malformed buffer on channel " + key + " from "
              + peer + ": " + e.getMessage(), e);
        }
        inbox.offerBuffer(input, payload, recycle);
      }

      @Override
      public void onFailure(PeerConnectionException error) {
        inbox.fail(error);
      }
    };
  }

  /** The consumer of a channel of a released attempt: frees what arrives, asks for more. */
  private static final InboundChannel DRAIN = new InboundChannel() {
    @Override
    public void onBuffer(ByteBuf payload, Runnable recycle) {
      payload.release();
      recycle.run();
    }

    @Override
    public void onFailure(PeerConnectionException error) {}
  };

  /**
   * Drops the inboxes of one attempt of a job and closes its channels to other workers; later
   * channels of the attempt are refused (here) or drained (from other workers).
   */
  public void release(String job, int attempt) {
    released.add(new Attempt(job, attempt));
    released.removeIf(a -> a.job().equals(job) && a.attempt() <= attempt - RELEASED_KEPT);
    inboxes.entrySet().removeIf(e -> {
      boolean match = e.getKey().job.equals(job) && e.getKey().attempt == attempt;
      if (match) {
        e.getValue().discard();
      }
      return match;
    });
    remotes.entrySet().removeIf(e -> {
      boolean match = e.getKey().job.equals(job) && e.getKey().attempt == attempt;
      if (match) {
        synchronized (e.getValue()) {
          e.getValue().forEach(t -> t.channel().abort());
        }
      }
      return match;
    });
  }

  /** Closes the data plane, if any. */
  @Override
  public void close() {
    if (dataPlane != null) {
      dataPlane.close();
    }
  }
}
