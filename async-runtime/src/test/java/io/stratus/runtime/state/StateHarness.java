package io.stratus.runtime.state;

import io.stratus.cache.HybridBlockCache;
import io.stratus.runtime.execution.AsyncExecutionController;
import io.stratus.runtime.serde.Serdes;
import io.stratus.store.keygroup.KeyGroups;
import io.stratus.store.lsm.KeyValue;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The state stack of one keyed task without a job, as {@code KeyedTask} builds it: a real
 * {@link AsyncExecutionController} whose task thread is a single-thread executor, and a
 * {@link KeyedStateStore} over the backend with a clock the test moves. Every access runs as a
 * record of its own ({@link RecordContext} with the key's bytes and key group), so state
 * futures complete through the same path as in a job, including the hop back to the task
 * thread when the backend completes elsewhere.
 */
public final class StateHarness implements AutoCloseable {

  public final KeyedStateBackend backend;
  public final CountingBackend counting;
  public final AtomicLong clock;
  public final AsyncExecutionController controller;
  public final KeyedStateStore states;
  private final int maxParallelism;
  private final ExecutorService executor;
  private volatile Thread taskThread;
  private volatile CompletableFuture<?> pending;
  private HybridBlockCache cache;

  public StateHarness(KeyedStateBackend backend, int maxParallelism, long startMillis) {
    this.backend = backend;
    this.counting = new CountingBackend(backend);
    this.maxParallelism = maxParallelism;
    this.clock = new AtomicLong(startMillis);
    this.executor = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "test-task-thread");
      t.setDaemon(true);
      taskThread = t;
      return t;
    });
    this.controller = new AsyncExecutionController(executor,
        () -> Thread.currentThread() == taskThread, 100, (ctx, error) -> {
          CompletableFuture<?> p = pending;
          if (p != null) {
            p.completeExceptionally(new AssertionError("record " + ctx + " failed: " + error,
                error));
          }
        });
    this.states = new KeyedStateStore(counting, controller, clock::get);
  }

  /** The block cache of the disaggregated backend, so {@link #flush} can empty it. */
  public StateHarness withCache(HybridBlockCache value) {
    this.cache = value;
    return this;
  }

  public boolean inTaskThread() {
    return Thread.currentThread() == taskThread;
  }

  /** The state handle of a descriptor (registration needs no record). */
  public <S> S state(StateDescriptor<S> descriptor) {
    return states.state(descriptor);
  }

  /**
   * Runs {@code access} as one record of {@code key} and returns what its future yields, after
   * the record has completed (its context released by every continuation).
   */
  public <T> T get(String key, Supplier<StateFuture<T>> access) {
    return get(key, Serdes.STRING.toBytes(key), access);
  }

  /** Like {@link #get(String, Supplier)} for a key given by its serialized bytes. */
  public <T> T get(Object key, byte[] keyBytes, Supplier<StateFuture<T>> access) {
    CompletableFuture<T> result = new CompletableFuture<>();
    pending = result;
    int keyGroup = KeyGroups.keyGroupOf(keyBytes, maxParallelism);
    executor.execute(() -> controller.submit(new RecordContext(key, key, keyBytes, keyGroup,
        Long.MIN_VALUE, () -> access.get().thenAccept(result::complete))));
    T value = await(result);
    // The record is complete only when every continuation has released its context.
    await(await(onTaskThread(controller::whenDrained)));
    pending = null;
    return value;
  }

  /** Runs {@code access} (writes) as one record of {@code key}. */
  public void run(String key, Runnable access) {
    get(key, () -> {
      access.run();
      return StateFuture.completed(null, controller);
    });
  }

  public int keyGroupOf(String key) {
    return KeyGroups.keyGroupOf(Serdes.STRING.toBytes(key), maxParallelism);
  }

  /** Runs {@code action} on the task thread, as task code between records would. */
  public <T> CompletableFuture<T> onTaskThread(Callable<T> action) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return action.call();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, executor);
  }

  /**
   * Makes later reads of the disaggregated backend go to SST files rather than the memtable, and
   * (with {@link #withCache}) load their blocks from the object store: they complete later, on
   * the object store's threads, after the code of the record that issued them has run on.
   */
  public void flush() {
    if (backend instanceof DisaggregatedBackend d) {
      await(d.store().flush());
      if (cache != null) {
        d.store().liveFiles().forEach(cache::invalidate);
      }
    }
  }

  /** Every live entry the backend holds, bypassing the typed state (and its TTL filtering). */
  public List<KeyValue> rawEntries() {
    return await(backend.scanPrefix(new byte[0], Integer.MAX_VALUE));
  }

  public static <T> T await(CompletableFuture<T> f) {
    try {
      return f.get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof AssertionError a) {
        throw a;
      }
      throw new AssertionError("state access failed: " + cause, cause);
    } catch (Exception e) {
      throw new AssertionError("state access did not complete: " + e, e);
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }

  /** Counts reads, to show which operations write without reading. */
  public static final class CountingBackend implements KeyedStateBackend {
    private final KeyedStateBackend inner;
    public final AtomicInteger reads = new AtomicInteger();

    CountingBackend(KeyedStateBackend inner) {
      this.inner = inner;
    }

    @Override
    public String kind() {
      return inner.kind();
    }

    @Override
    public io.stratus.store.keygroup.KeyGroupRange keyGroups() {
      return inner.keyGroups();
    }

    @Override
    public CompletableFuture<byte[]> get(byte[] key) {
      reads.incrementAndGet();
      return inner.get(key);
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
      reads.incrementAndGet();
      return inner.scanPrefix(prefix, limit);
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
}
