package io.stratus.cache;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Creates daemon threads named {@code prefix-1}, {@code prefix-2}, ... so that thread dumps show
 * which component a thread serves, and so background pools never keep a JVM alive.
 */
public final class NamedDaemonThreadFactory implements ThreadFactory {

  private final String prefix;
  private final AtomicInteger counter = new AtomicInteger();

  public NamedDaemonThreadFactory(String prefix) {
    this.prefix = prefix;
  }

  @Override
  public Thread newThread(Runnable task) {
    Thread thread = new Thread(task, prefix + "-" + counter.incrementAndGet());
    thread.setDaemon(true);
    return thread;
  }
}
