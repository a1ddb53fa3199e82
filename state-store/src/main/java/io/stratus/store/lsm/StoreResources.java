package io.stratus.store.lsm;

import io.stratus.cache.HybridBlockCache;
import io.stratus.cache.NamedDaemonThreadFactory;
import io.stratus.store.objectstore.ObjectStore;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * What the stores of one worker share: the object store, the block cache and the threads for
 * flushes, deltas, compactions and blocking reads (iterators). Closing it stops the threads; the object
 * store and the cache belong to whoever created them.
 *
 * @param objectStore        where SST files and manifests live
 * @param cache              the block cache in front of it
 * @param flushExecutor      builds flushed SST files (CPU-bound, short)
 * @param deltaExecutor      builds the small delta files checkpoints wait for, so that they
 *                           never queue behind a full memtable's flush
 * @param compactionExecutor runs compactions (long; may block on reads)
 * @param readExecutor       runs iterators for asynchronous scans (may block on block loads)
 * @param requestExecutor    issues block reads to the object store, so that building and
 *                           signing requests never runs on a caller's event loop (never
 *                           blocks)
 */
public record StoreResources(ObjectStore objectStore, HybridBlockCache cache,
    ExecutorService flushExecutor, ExecutorService deltaExecutor,
    ExecutorService compactionExecutor,
    ExecutorService readExecutor, ExecutorService requestExecutor) implements AutoCloseable {

  /** Resources with one flush thread, one compaction thread and four read threads. */
  public static StoreResources create(ObjectStore objectStore, HybridBlockCache cache) {
    return create(objectStore, cache, 1, 1, 4);
  }

  public static StoreResources create(ObjectStore objectStore, HybridBlockCache cache,
      int flushThreads, int compactionThreads, int readThreads) {
    return new StoreResources(objectStore, cache,
        Executors.newFixedThreadPool(flushThreads, new NamedDaemonThreadFactory("stratus-flush")),
        Executors.newSingleThreadExecutor(new NamedDaemonThreadFactory("stratus-delta")),
        Executors.newFixedThreadPool(compactionThreads,
            new NamedDaemonThreadFactory("stratus-compaction")),
        Executors.newFixedThreadPool(readThreads, new NamedDaemonThreadFactory("stratus-read")),
        Executors.newFixedThreadPool(2, new NamedDaemonThreadFactory("stratus-request")));
  }

  @Override
  public void close() {
    flushExecutor.shutdownNow();
    deltaExecutor.shutdownNow();
    compactionExecutor.shutdownNow();
    readExecutor.shutdownNow();
    requestExecutor.shutdownNow();
  }
}
