package io.stratus.runtime.execution;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The input queue of one task, fed by several upstream tasks. Offers always succeed (a record's
 * function may emit many records at once), but producers check {@link #hasSpace()} before they
 * take more input and park with {@link #whenSpace} when the inbox holds {@code capacity}
 * records: that is the backpressure, bounded by one input record's output. The consumer is
 * woken on its own thread through {@link #onAvailable}.
 */
final class TaskInbox {

  private final int capacity;
  private final ConcurrentLinkedQueue<StreamElement> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger records = new AtomicInteger();
  private final ConcurrentLinkedQueue<Runnable> producersWaiting = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean consumerScheduled = new AtomicBoolean();
  private volatile Runnable consumerWakeUp;

  TaskInbox(int capacity) {
    this.capacity = capacity;
  }

  void offer(StreamElement element) {
    if (element instanceof StreamElement.Record) {
      records.incrementAndGet();
    }
    queue.add(element);
    Runnable wake = consumerWakeUp;
    if (wake != null && consumerScheduled.compareAndSet(false, true)) {
      wake.run();
    }
  }

  boolean hasSpace() {
    return records.get() < capacity;
  }

  /** Runs {@code resume} (once) when the inbox has room again. */
  void whenSpace(Runnable resume) {
    producersWaiting.add(resume);
    if (hasSpace()) {
      notifyProducers();
    }
  }

  /** The next element, or {@code null}; call from the consumer's thread. */
  StreamElement poll() {
    StreamElement e = queue.poll();
    if (e instanceof StreamElement.Record && records.decrementAndGet() <= capacity / 2) {
      notifyProducers();
    }
    return e;
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

  private void notifyProducers() {
    List<Runnable> ready = new ArrayList<>();
    Runnable r;
    while ((r = producersWaiting.poll()) != null) {
      ready.add(r);
    }
    ready.forEach(Runnable::run);
  }
}
