package io.stratus.network;

import io.netty.buffer.ByteBuf;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The producer's end of one logical channel to a task on another worker.
 *
 * <p>Implementation note: the producer serializes elements into a pooled buffer between
 * {@link #reserve} and {@link #commit}. A buffer is sealed into a DATA frame when the next
 * element does not fit, when the producer asks (barriers, end of input), or when the flush
 * timer fires, so latency stays bounded at low rates. Sealed frames wait in a queue until the
 * consumer has granted credit (one credit = one buffer); only the connection's event loop
 * writes them, so frames leave in the order they were sealed whichever thread sealed them. A
 * producer should stop taking input while {@link #hasCapacity()} is false (as many sealed
 * buffers wait as the consumer grants credits): that is the backpressure, and it holds back
 * exactly this channel's producer, never another channel on the same connection.
 */
public final class OutboundChannel {

  private final PeerConnection connection;
  private final int id;
  private final String key;
  private final int bufferBytes;
  private final int maxFrameBytes;
  private final long flushNanos;
  private final int backlogLimit;
  private final ReentrantLock lock = new ReentrantLock();
  private final ArrayDeque<ByteBuf> sealed = new ArrayDeque<>();
  private final List<Runnable> waiting = new ArrayList<>();
  private ByteBuf current;
  private int credits;
  private boolean flushScheduled;
  private boolean drainScheduled;
  private boolean closing;
  private boolean closed;
  private volatile int backlog;
  private volatile PeerConnectionException failure;
  private volatile Consumer<PeerConnectionException> onFailure = e -> {};
  private long bytesSent;
  private long framesSent;

  OutboundChannel(PeerConnection connection, int id, String key, DataPlaneConfig config) {
    this.connection = connection;
    this.id = id;
    this.key = key;
    this.bufferBytes = config.bufferBytes();
    this.maxFrameBytes = config.maxFrameBytes();
    this.flushNanos = config.flushTimeout().toNanos();
    this.backlogLimit = config.creditsPerChannel();
  }

  /** The channel's name, as the consumer's worker resolves it. */
  public String key() {
    return key;
  }

  /** The worker at the other end. */
  public String peer() {
    return connection.peerId();
  }

  /**
   * Makes room for an element of {@code bytes} and returns the buffer to write it into; the
   * channel stays locked for this producer until {@link #commit}. Call from one thread.
   *
   * @throws PeerConnectionException if the connection failed
   * @throws IllegalArgumentException if the element is larger than the largest frame
   */
  public ByteBuf reserve(int bytes) {
    if (bytes > maxFrameBytes) {
      throw new IllegalArgumentException("an element of " + bytes + " bytes on channel " + key
          + " exceeds the data plane's maxFrameBytes (" + maxFrameBytes + ")");
    }
    lock.lock();
    PeerConnectionException failed = failure;
    if (failed != null || closed) {
      lock.unlock();
      throw failed != null ? failed
          : new IllegalStateException("channel " + key + " to worker " + peer() + " is closed");
    }
    if (current != null && current.writerIndex() - Frames.HEADER + bytes > bufferBytes) {
      sealCurrent();
    }
    if (current == null) {
      current = Frames.allocate(connection.alloc(), Math.max(bufferBytes, bytes));
    }
    return current;
  }

  /**
   * Ends the element written since {@link #reserve}.
   *
   * @param flush send the buffer now (after a barrier or the end of input) instead of when it
   *              fills up or the flush timeout passes
   */
  public void commit(boolean flush) {
    try {
      if (flush || flushNanos == 0) {
        sealCurrent();
      } else if (!flushScheduled) {
        flushScheduled = true;
        connection.eventLoop().schedule(this::flushTimerFired, flushNanos, TimeUnit.NANOSECONDS);
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Whether the producer may go on: fewer sealed buffers wait for credit than the consumer
   * grants. True once the channel failed, so that the producer finds the failure on its next
   * {@link #reserve}.
   */
  public boolean hasCapacity() {
    return failure != null || backlog < backlogLimit;
  }

  /** Runs {@code resume} once (on any thread) when {@link #hasCapacity()} holds again. */
  public void whenCapacity(Runnable resume) {
    lock.lock();
    boolean now;
    try {
      now = hasCapacity();
      if (!now) {
        waiting.add(resume);
      }
    } finally {
      lock.unlock();
    }
    if (now) {
      resume.run();
    }
  }

  /** Called once, on the connection's event loop, if the connection fails. */
  public void onFailure(Consumer<PeerConnectionException> listener) {
    this.onFailure = listener;
    PeerConnectionException failed = failure;
    if (failed != null) {
      listener.accept(failed);
    }
  }

  /** The failure of the connection, or null. */
  public PeerConnectionException failure() {
    return failure;
  }

  /**
   * Sends what is buffered, then tells the consumer the channel is closed and frees it. Call
   * after the last element (the end of input), from the producer's thread.
   */
  public void close() {
    lock.lock();
    try {
      if (closed || closing || failure != null) {
        return;
      }
      sealCurrent();
      closing = true;
      scheduleDrain();
    } finally {
      lock.unlock();
    }
  }

  /** Drops what is buffered and frees the channel at once (the attempt was canceled). */
  public void abort() {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      releaseBuffers();
    } finally {
      lock.unlock();
    }
    connection.closeChannel(id);
  }

  /** Bytes and DATA frames handed to the connection so far. */
  public long bytesSent() {
    lock.lock();
    try {
      return bytesSent;
    } finally {
      lock.unlock();
    }
  }

  public long framesSent() {
    lock.lock();
    try {
      return framesSent;
    } finally {
      lock.unlock();
    }
  }

  int id() {
    return id;
  }

  /** The consumer granted {@code n} more buffers (event loop). */
  void addCredits(int n) {
    lock.lock();
    try {
      credits += n;
      drain();
    } finally {
      lock.unlock();
    }
    resumeWaiting();
  }

  /** The connection failed (event loop). */
  void fail(PeerConnectionException error) {
    lock.lock();
    try {
      if (failure != null || closed) {
        return;
      }
      failure = error;
      releaseBuffers();
    } finally {
      lock.unlock();
    }
    resumeWaiting();
    onFailure.accept(error);
  }

  private void flushTimerFired() {
    lock.lock();
    try {
      flushScheduled = false;
      sealCurrent();
      drain();
    } finally {
      lock.unlock();
    }
  }

  /** Under the lock: the current buffer, if it holds anything, becomes a frame to send. */
  private void sealCurrent() {
    if (current == null) {
      return;
    }
    if (current.writerIndex() == Frames.HEADER) {
      return;
    }
    sealed.add(Frames.seal(current, Frames.DATA, id));
    current = null;
    backlog = sealed.size();
    if (credits > 0) {
      scheduleDrain();
    }
  }

  private void scheduleDrain() {
    if (!drainScheduled) {
      drainScheduled = true;
      connection.eventLoop().execute(() -> {
        lock.lock();
        try {
          drainScheduled = false;
          drain();
        } finally {
          lock.unlock();
        }
        resumeWaiting();
      });
    }
  }

  /** Under the lock, on the event loop: writes as many sealed frames as there are credits. */
  private void drain() {
    if (!connection.eventLoop().inEventLoop()) {
      scheduleDrain();
      return;
    }
    boolean wrote = false;
    while (credits > 0 && !sealed.isEmpty() && failure == null && !closed) {
      ByteBuf frame = sealed.poll();
      credits--;
      bytesSent += frame.readableBytes();
      framesSent++;
      connection.write(frame);
      wrote = true;
    }
    backlog = sealed.size();
    if (wrote) {
      connection.flush();
    }
    if (closing && sealed.isEmpty() && !closed && failure == null) {
      closed = true;
      connection.closeChannel(id);
    }
  }

  private void releaseBuffers() {
    if (current != null) {
      current.release();
      current = null;
    }
    ByteBuf b;
    while ((b = sealed.poll()) != null) {
      b.release();
    }
    backlog = 0;
  }

  private void resumeWaiting() {
    List<Runnable> ready;
    lock.lock();
    try {
      if (waiting.isEmpty() || !hasCapacity()) {
        return;
      }
      ready = new ArrayList<>(waiting);
      waiting.clear();
    } finally {
      lock.unlock();
    }
    ready.forEach(Runnable::run);
  }
}
