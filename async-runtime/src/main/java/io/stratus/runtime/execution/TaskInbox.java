package io.stratus.runtime.execution;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The input queue of one task, fed by several upstream tasks: by elements from producers in
 * this process, and by whole data-plane buffers from producers on other workers (decoded here,
 * on the consumer's thread, when their turn comes).
 *
 * <p>Local offers always succeed (a record's function may emit many records at once), but local
 * producers check {@link #hasSpace()} before they take more input and park with
 * {@link #whenSpace} when the inbox holds {@code capacity} of their records (fewer while the
 * task's {@link DrainTimeLimit} is lower): that is the backpressure, bounded by one input
 * record's output. Remote producers are bounded by credits
 * instead: a buffer's credit goes back once the consumer has read all of it. The consumer is
 * woken on its own thread through {@link #onAvailable}.
 */
final class TaskInbox implements ChannelTarget {

  /** A data-plane buffer of channel {@code input}, read element by element. */
  private record Batch(int input, ByteBuf payload, Runnable recycle) {}

  private volatile int capacity;
  private volatile DrainTimeLimit limit;
  private final ConcurrentLinkedQueue<Object> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger records = new AtomicInteger();
  private final ConcurrentLinkedQueue<Runnable> producersWaiting = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean consumerScheduled = new AtomicBoolean();
  private volatile Runnable consumerWakeUp;
  private volatile Throwable failure;
  private volatile boolean discarded;
  /** The batch being read (by the consumer's thread; freed by {@link #discard} once it stopped). */
  private final AtomicReference<Batch> reading = new AtomicReference<>();

  TaskInbox(int capacity) {
    this.capacity = capacity;
  }

  /** The bound on local records queued here (the task's configured channel capacity). */
  void capacity(int capacity) {
    this.capacity = capacity;
  }

  /** Queues no more local records than the consuming task lets wait in flight. */
  void boundBy(DrainTimeLimit limit) {
    this.limit = limit;
  }

  private int bound() {
    DrainTimeLimit l = limit;
    return l == null ? capacity : Math.min(capacity, l.current());
  }

  @Override
  public void offer(StreamElement element) {
    if (element instanceof StreamElement.Record) {
      records.incrementAndGet();
    }
    queue.add(element);
    wakeConsumer();
  }

  /**
   * A buffer of elements from a producer on another worker, already validated; the inbox owns
   * it and calls {@code recycle} once it has been read (or discarded).
   */
  void offerBuffer(int input, ByteBuf payload, Runnable recycle) {
    if (discarded) {
      payload.release();
      return;
    }
    queue.add(new Batch(input, payload, recycle));
    if (discarded) {
      discard();
      return;
    }
    wakeConsumer();
  }

  /** An input of this task can deliver nothing more (its connection failed). */
  void fail(Throwable error) {
    if (failure == null) {
      failure = error;
    }
    Runnable wake = consumerWakeUp;
    if (wake != null) {
      consumerScheduled.set(true);
      wake.run();
    }
  }

  /** Why an input failed, or null. */
  Throwable failure() {
    return failure;
  }

  private void wakeConsumer() {
    Runnable wake = consumerWakeUp;
    if (wake != null && consumerScheduled.compareAndSet(false, true)) {
      wake.run();
    }
  }

  @Override
  public boolean hasSpace() {
    return records.get() < bound();
  }

  /** Runs {@code resume} (once) when the inbox has room again. */
  @Override
  public void whenSpace(Runnable resume) {
    producersWaiting.add(resume);
    if (hasSpace()) {
      notifyProducers();
    }
  }

  /** The next element, or {@code null}; call from the consumer's thread. */
  StreamElement poll() {
    while (true) {
      Batch b = reading.get();
      if (b != null) {
        if (b.payload.isReadable()) {
          return ElementCodec.read(b.payload, b.input);
        }
        if (reading.compareAndSet(b, null)) {
          b.payload.release();
          b.recycle.run();
        }
      }
      Object next = queue.poll();
      if (next instanceof Batch batch) {
        reading.set(batch);
        continue;
      }
      StreamElement e = (StreamElement) next;
      if (e instanceof StreamElement.Record && records.decrementAndGet() <= bound() / 2) {
        notifyProducers();
      }
      return e;
    }
  }

  /**
   * Sets how the consumer is woken (it must hop to the consumer's thread); the consumer calls
   * {@link #consumerIdle()} when it found the inbox empty.
   */
  void onAvailable(Runnable wakeUp) {
    this.consumerWakeUp = wakeUp;
  }

  /** The consumer found nothing and will sleep until the next offer. */
  void consumerIdle() {
    consumerScheduled.set(false);
    if (!queue.isEmpty() && consumerScheduled.compareAndSet(false, true)) {
      consumerWakeUp.run();
    }
  }

  /**
   * The attempt is over and its tasks have stopped: frees the data-plane buffers still queued or
   * half read (pooled memory), now and for any that arrive later.
   */
  void discard() {
    discarded = true;
    Batch half = reading.getAndSet(null);
    if (half != null) {
      half.payload.release();
    }
    Object o;
    while ((o = queue.poll()) != null) {
      if (o instanceof Batch b) {
        b.payload.release();
      }
    }
  }

  private void notifyProducers() {
    List<Runnable> ready = new ArrayList<>();
    Runnable r;
    while ((r = producersWaiting.poll()) != null) {
      ready.add(r);
    }
    ready.forEach(Runnable::run);
  }
}
