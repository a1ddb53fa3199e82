package io.stratus.runtime.execution;

import io.stratus.runtime.state.ExpiryFilter;
import io.stratus.runtime.state.KeyedStateBackend;
import io.stratus.runtime.state.StateHandle;
import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.lsm.KeyValue;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A backend whose reads complete after a random delay on a timer thread, so they complete out
 * of order, like reads of a remote store with jitter. The value is taken when the read is
 * issued: a write made meanwhile must not rescue a read that a wrongly overlapping record of
 * the same key issued too early.
 */
final class DelayingBackend implements KeyedStateBackend {

  private final KeyedStateBackend inner;
  private final ScheduledExecutorService timer;
  private final Random random;
  private final long maxDelayMicros;
  final AtomicInteger reads = new AtomicInteger();

  DelayingBackend(KeyedStateBackend inner, ScheduledExecutorService timer, long seed,
      long maxDelayMicros) {
    this.inner = inner;
    this.timer = timer;
    this.random = new Random(seed);
    this.maxDelayMicros = maxDelayMicros;
  }

  private <T> CompletableFuture<T> later(CompletableFuture<T> now) {
    reads.incrementAndGet();
    long delay = random.nextLong(maxDelayMicros + 1);
    CompletableFuture<T> out = new CompletableFuture<>();
    now.whenComplete((v, e) -> timer.schedule(() -> {
      if (e != null) {
        out.completeExceptionally(e);
      } else {
        out.complete(v);
      }
    }, delay, TimeUnit.MICROSECONDS));
    return out;
  }

  @Override
  public String kind() {
    return inner.kind();
  }

  @Override
  public KeyGroupRange keyGroups() {
    return inner.keyGroups();
  }

  @Override
  public CompletableFuture<byte[]> get(byte[] key) {
    return later(inner.get(key));
  }

  @Override
  public void put(byte[] key, byte[] value) {
    inner.put(key, value);
  }

  @Override
  public void delete(byte[] key) {
    inner.delete(key);
  }

  @Override
  public void merge(byte[] key, byte[] operand) {
    inner.merge(key, operand);
  }

  @Override
  public CompletableFuture<List<KeyValue>> scanPrefix(byte[] prefix, int limit) {
    return later(inner.scanPrefix(prefix, limit));
  }

  @Override
  public CompletableFuture<Void> whenWritable() {
    return inner.whenWritable();
  }

  @Override
  public long approximateSizeBytes() {
    return inner.approximateSizeBytes();
  }

  @Override
  public long uploadedBytes() {
    return inner.uploadedBytes();
  }

  @Override
  public CompletableFuture<StateHandle> snapshot() {
    return inner.snapshot();
  }

  @Override
  public void setExpiryFilter(ExpiryFilter filter) {
    inner.setExpiryFilter(filter);
  }

  @Override
  public void close() {
    inner.close();
  }
}
