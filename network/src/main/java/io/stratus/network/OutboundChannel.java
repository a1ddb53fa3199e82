package io.stratus.network;

import io.netty.buffer.ByteBuf;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
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
 * takes them from the queue and writes them, so frames leave in the order they were sealed. A
 * producer should stop taking input while {@link #hasCapacity()} is false (a sealed buffer
 * waits for credit): that is the backpressure, and it holds back exactly this channel's
 * producer, never another channel on the same connection.
 *
 * <p>With a debloat target set, while the consumer is the slower side (a sealed buffer waited
 * for credit during the last {@value #DEBLOAT_WINDOW_MILLIS} ms), buffers are sealed once they
 * hold the consumer's throughput times the debloat target divided by the buffers that can
 * wait (credits plus one): a barrier then waits behind about the target's worth of records instead of several
 * full buffers, which at a few hundred records per second would be many seconds. Once the
 * consumer keeps up again the size doubles each window back to {@code bufferBytes}. Measured
 * and set on the event loop; the producer only reads it.
 *
 * <p>The event loop never waits for the producer: the queue and the credits are lock-free, and
 * the buffer being filled is the producer's alone, guarded by a lock the flush timer and a
 * failure only try (when the producer holds it, it is writing and will seal or free the buffer
 * itself at its {@link #commit}).
 */
public final class OutboundChannel {

  /** How soon the flush timer looks again when it found the producer writing. */
  private static final long FLUSH_RETRY_NANOS = TimeUnit.MICROSECONDS.toNanos(200);
  static final int DEBLOAT_WINDOW_MILLIS = 100;
  private static final long DEBLOAT_WINDOW_NANOS =
      TimeUnit.MILLISECONDS.toNanos(DEBLOAT_WINDOW_MILLIS);
  /** The smallest buffer debloating seals: below it frames cost more than they carry. */
  static final int MIN_SEAL_BYTES = 256;

  private final PeerConnection connection;
  private final int id;
  private final String key;
  private final int bufferBytes;
  private final int maxFrameBytes;
  private final long flushNanos;
  private final long debloatNanos;
  private final int waitingBuffers;
  /** A buffer is sealed before the next element would take it past this many bytes. */
  private volatile int sealAt;
  private long windowStart = System.nanoTime();
  private long windowBytes;
  /** A buffer sealed during this window found no credit: the consumer is the slower side. */
  private volatile boolean starved;
  /** Guards {@link #current}: held by the producer from reserve to commit. */
  private final ReentrantLock lock = new ReentrantLock();
  private final ConcurrentLinkedQueue<ByteBuf> sealed = new ConcurrentLinkedQueue<>();
  private final AtomicInteger backlog = new AtomicInteger();
  private final AtomicInteger credits = new AtomicInteger();
  private final AtomicBoolean drainScheduled = new AtomicBoolean();
  private final ConcurrentLinkedQueue<Runnable> waiting = new ConcurrentLinkedQueue<>();
  private ByteBuf current;
  private boolean flushScheduled;
  /** Which timer is the live one: a spent timer's retries find a newer number and stop. */
  private volatile long flushTimer;
  /** Buffers sealed so far, and how many when the live timer was set (under the lock). */
  private long sealedCount;
  private long sealedWhenTimerSet;
  /** The flush timer found the producer writing: it seals at its commit. */
  private volatile boolean flushDue;
  private volatile boolean closing;
  private volatile boolean closed;
  private volatile PeerConnectionException failure;
  private final AtomicBoolean failedOnce = new AtomicBoolean();
  private volatile Consumer<PeerConnectionException> onFailure = e -> {};
  private volatile long bytesSent;
  private volatile long framesSent;

  OutboundChannel(PeerConnection connection, int id, String key, DataPlaneConfig config) {
    this.connection = connection;
    this.id = id;
    this.key = key;
    this.bufferBytes = config.bufferBytes();
    this.maxFrameBytes = config.maxFrameBytes();
    this.flushNanos = config.flushTimeout().toNanos();
    this.debloatNanos = config.debloatTarget().toNanos();
    this.waitingBuffers = config.creditsPerChannel() + 1;
    this.sealAt = bufferBytes;
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
   * buffer stays this producer's until {@link #commit}. Call from one thread.
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
    try {
      PeerConnectionException failed = failure;
      if (failed != null) {
        throw failed;
      }
      if (closed || closing) {
        throw new IllegalStateException("channel " + key + " to worker " + peer()
            + " is closed");
      }
      if (current != null && current.writerIndex() - Frames.HEADER + bytes > sealAt) {
        sealCurrent();
      }
      if (current == null) {
        current = Frames.allocate(connection.alloc(), Math.max(bufferBytes, bytes));
      }
      return current;
    } catch (RuntimeException | Error e) {
      lock.unlock();
      throw e;
    }
  }

  /**
   * Ends the element written since {@link #reserve}; call it whatever happened since (in a
   * {@code finally}), as it gives the buffer back.
   *
   * @param flush send the buffer now (after a barrier or the end of input) instead of when it
   *              fills up or the flush timeout passes
   */
  public void commit(boolean flush) {
    try {
      if (failure != null || closed) {
        releaseCurrent();
      } else if (flush || flushNanos == 0 || flushDue) {
        if (flushDue) {
          // The timer that found us writing is spent (its retries stop): the next buffer gets
          // a new one.
          flushDue = false;
          flushScheduled = false;
          flushTimer++;
        }
        sealCurrent();
      } else if (!flushScheduled) {
        flushScheduled = true;
        sealedWhenTimerSet = sealedCount;
        long timer = ++flushTimer;
        connection.eventLoop().schedule(() -> flushTimerFired(timer), flushNanos,
            TimeUnit.NANOSECONDS);
      }
      if (failure != null || closed) {
        // Failed or aborted while we wrote: their tryLock left this buffer to us.
        releaseCurrent();
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Whether the producer may go on: no sealed buffer waits for credit. (One waiting is enough
   * to keep the connection busy the moment a credit comes back; more would only put more data
   * ahead of the next barrier.) True once the channel failed, so that the producer finds the
   * failure on its next {@link #reserve}.
   */
  public boolean hasCapacity() {
    return failure != null || closed || backlog.get() == 0;
  }

  /** Runs {@code resume} once (on any thread) when {@link #hasCapacity()} holds again. */
  public void whenCapacity(Runnable resume) {
    waiting.add(resume);
    if (hasCapacity()) {
      resumeWaiting();
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
      // An empty buffer (an element whose write failed) is not sent: free it.
      releaseCurrent();
      closing = true;
    } finally {
      lock.unlock();
    }
    scheduleDrain();
  }

  /** Drops what is buffered and frees the channel at once (the attempt was canceled). */
  public void abort() {
    if (closed) {
      return;
    }
    closed = true;
    freeBuffers();
    connection.closeChannel(id);
    resumeWaiting();
  }

  /** Bytes and DATA frames handed to the connection so far. */
  public long bytesSent() {
    return bytesSent;
  }

  public long framesSent() {
    return framesSent;
  }

  /** The size at which buffers are sealed now (below {@code bufferBytes} while debloated). */
  public int sealBytes() {
    return sealAt;
  }

  int id() {
    return id;
  }

  /** The consumer granted {@code n} more buffers (event loop). */
  void addCredits(int n) {
    credits.addAndGet(n);
    drain();
  }

  /** The connection failed (event loop). */
  void fail(PeerConnectionException error) {
    if (closed || !failedOnce.compareAndSet(false, true)) {
      return;
    }
    failure = error;
    freeBuffers();
    resumeWaiting();
    onFailure.accept(error);
  }

  private void flushTimerFired(long timer) {
    if (timer != flushTimer) {
      return;
    }
    if (!lock.tryLock()) {
      // The producer is writing: it seals at its commit, unless it had passed that check
      // already, so look again shortly (the lock is held for one element's write).
      flushDue = true;
      connection.eventLoop().schedule(() -> flushTimerFired(timer), FLUSH_RETRY_NANOS,
          TimeUnit.NANOSECONDS);
      return;
    }
    try {
      if (!flushScheduled || timer != flushTimer) {
        return;
      }
      if (sealedCount != sealedWhenTimerSet && current != null && failure == null && !closed) {
        // The buffer this timer was set for went out full; the one filling now gets a timeout
        // of its own (sealing it now would spend a credit on a few elements).
        flushDue = false;
        sealedWhenTimerSet = sealedCount;
        connection.eventLoop().schedule(() -> flushTimerFired(timer), flushNanos,
            TimeUnit.NANOSECONDS);
        return;
      }
      flushScheduled = false;
      flushDue = false;
      if (failure == null && !closed) {
        sealCurrent();
      } else {
        releaseCurrent();
      }
    } finally {
      lock.unlock();
    }
  }

  /** With the lock: the current buffer, if it holds anything, becomes a frame to send. */
  private void sealCurrent() {
    ByteBuf buf = current;
    if (buf == null || buf.writerIndex() == Frames.HEADER) {
      return;
    }
    current = null;
    sealedCount++;
    sealed.add(Frames.seal(buf, Frames.DATA, id));
    backlog.incrementAndGet();
    if (failure != null || closed) {
      // Failed meanwhile: what the event loop freed did not include this frame.
      freeSealed();
      return;
    }
    if (credits.get() > 0) {
      scheduleDrain();
    } else {
      starved = true;
    }
  }

  private void scheduleDrain() {
    if (drainScheduled.compareAndSet(false, true)) {
      connection.eventLoop().execute(() -> {
        drainScheduled.set(false);
        drain();
      });
    }
  }

  /** On the event loop (the queue's only taker): writes as many frames as there are credits. */
  private void drain() {
    boolean wrote = false;
    while (credits.get() > 0 && failure == null && !closed) {
      ByteBuf frame = sealed.poll();
      if (frame == null) {
        break;
      }
      backlog.decrementAndGet();
      credits.decrementAndGet();
      windowBytes += frame.readableBytes();
      bytesSent += frame.readableBytes();
      framesSent++;
      connection.write(frame);
      wrote = true;
    }
    if (wrote) {
      connection.flush();
    }
    if (debloatNanos > 0) {
      debloat();
    }
    if (closing && sealed.isEmpty() && !closed && failure == null) {
      closed = true;
      connection.closeChannel(id);
    }
    resumeWaiting();
  }

  /** On the event loop, after a drain: sizes the buffers to the consumer's throughput. */
  private void debloat() {
    long now = System.nanoTime();
    long elapsed = now - windowStart;
    if (elapsed < DEBLOAT_WINDOW_NANOS) {
      return;
    }
    if (starved) {
      double target = (double) windowBytes / elapsed * debloatNanos / waitingBuffers;
      sealAt = (int) Math.max(MIN_SEAL_BYTES, Math.min(bufferBytes, target));
    } else if (sealAt < bufferBytes) {
      sealAt = (int) Math.min(bufferBytes, 2L * sealAt);
    }
    windowStart = now;
    windowBytes = 0;
    starved = false;
  }

  /** Frees the queued frames and, unless the producer is writing into it, the open buffer. */
  private void freeBuffers() {
    freeSealed();
    if (lock.tryLock()) {
      try {
        releaseCurrent();
      } finally {
        lock.unlock();
      }
    }
  }

  private void freeSealed() {
    ByteBuf b;
    while ((b = sealed.poll()) != null) {
      backlog.decrementAndGet();
      b.release();
    }
  }

  private void releaseCurrent() {
    if (current != null) {
      current.release();
      current = null;
    }
  }

  private void resumeWaiting() {
    if (waiting.isEmpty() || !hasCapacity()) {
      return;
    }
    Runnable r;
    while ((r = waiting.poll()) != null) {
      r.run();
    }
  }
}
