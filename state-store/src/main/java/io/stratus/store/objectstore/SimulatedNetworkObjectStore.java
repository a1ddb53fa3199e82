package io.stratus.store.objectstore;

import io.stratus.cache.NamedDaemonThreadFactory;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * Wraps an {@link ObjectStore} and makes it behave like a remote bucket: each request is delayed
 * by a {@link NetworkModel} (first byte plus transfer time) and may fail through a
 * {@link FaultInjector}. Delays are timers, not sleeping threads, so a thousand requests in
 * flight cost no threads, as with a real async client.
 *
 * <p>Benchmarks use it over {@link LocalDirectoryObjectStore} to model a cloud bucket without a
 * server eating the CPU; tests use it to inject faults. Model and faults can change while
 * running.
 */
public final class SimulatedNetworkObjectStore implements ObjectStore {

  private final ObjectStore inner;
  private final AtomicReference<NetworkModel> model;
  private final AtomicReference<FaultInjector> faults = new AtomicReference<>(FaultInjector.NONE);
  private final ScheduledExecutorService timer;
  private final LongAdder requests = new LongAdder();
  private final LongAdder bytesRead = new LongAdder();
  private final LongAdder bytesWritten = new LongAdder();

  public SimulatedNetworkObjectStore(ObjectStore inner, NetworkModel model) {
    this.inner = inner;
    this.model = new AtomicReference<>(model);
    this.timer = Executors.newScheduledThreadPool(2,
        new NamedDaemonThreadFactory("stratus-simulated-network"));
  }

  public void setModel(NetworkModel value) {
    model.set(value);
  }

  public void setFaults(FaultInjector value) {
    faults.set(value);
  }

  /** Requests seen, failed ones included. */
  public long requestCount() {
    return requests.sum();
  }

  public long bytesRead() {
    return bytesRead.sum();
  }

  public long bytesWritten() {
    return bytesWritten.sum();
  }

  @Override
  public CompletableFuture<byte[]> get(String key) {
    return request(FaultInjector.Operation.GET, key, 0, () -> inner.get(key))
        .thenCompose(data -> {
          bytesRead.add(data.length);
          return delayed(model.get().transferNanos(data.length), data);
        });
  }

  @Override
  public CompletableFuture<byte[]> getRange(String key, long offset, int length) {
    bytesRead.add(length);
    return request(FaultInjector.Operation.GET, key, length,
        () -> inner.getRange(key, offset, length));
  }

  @Override
  public CompletableFuture<Void> put(String key, byte[] data) {
    bytesWritten.add(data.length);
    return request(FaultInjector.Operation.PUT, key, data.length, () -> inner.put(key, data));
  }

  @Override
  public CompletableFuture<Boolean> putIfAbsent(String key, byte[] data) {
    bytesWritten.add(data.length);
    return request(FaultInjector.Operation.PUT_IF_ABSENT, key, data.length,
        () -> inner.putIfAbsent(key, data));
  }

  @Override
  public CompletableFuture<Optional<VersionedObject>> getVersioned(String key) {
    return request(FaultInjector.Operation.GET, key, 0, () -> inner.getVersioned(key));
  }

  @Override
  public CompletableFuture<Optional<String>> putIfVersion(String key, byte[] data,
      String expectedTag) {
    bytesWritten.add(data.length);
    return request(FaultInjector.Operation.PUT_IF_VERSION, key, data.length,
        () -> inner.putIfVersion(key, data, expectedTag));
  }

  @Override
  public CompletableFuture<Optional<ObjectInfo>> head(String key) {
    return request(FaultInjector.Operation.HEAD, key, 0, () -> inner.head(key));
  }

  @Override
  public CompletableFuture<List<ObjectInfo>> list(String prefix) {
    return request(FaultInjector.Operation.LIST, prefix, 0, () -> inner.list(prefix));
  }

  @Override
  public CompletableFuture<Void> delete(Collection<String> keys) {
    String first = keys.isEmpty() ? "(none)" : keys.iterator().next();
    return request(FaultInjector.Operation.DELETE, first, 0, () -> inner.delete(keys));
  }

  @Override
  public String location() {
    return inner.location() + " (simulated network)";
  }

  /** Closes the timer, not the wrapped store. */
  @Override
  public void close() {
    timer.shutdownNow();
  }

  private <T> CompletableFuture<T> request(FaultInjector.Operation operation, String key,
      long payloadBytes, Supplier<CompletableFuture<T>> call) {
    requests.increment();
    long delay = model.get().delayNanos(payloadBytes);
    RuntimeException fault = faults.get().faultFor(operation, key);
    if (fault != null) {
      return this.<T>delayed(delay, null).thenCompose(v -> CompletableFuture.failedFuture(fault));
    }
    return call.get().thenCompose(value -> delayed(delay, value));
  }

  private <T> CompletableFuture<T> delayed(long nanos, T value) {
    if (nanos <= 0) {
      return CompletableFuture.completedFuture(value);
    }
    CompletableFuture<T> result = new CompletableFuture<>();
    try {
      timer.schedule(() -> result.complete(value), nanos, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      result.complete(value);
    }
    return result;
  }
}
