package io.stratus.cache;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A two-tier block cache: a Caffeine memory tier bounded in bytes over a local-disk tier bounded
 * in bytes, in front of a slower store reached through a {@link BlockLoader}.
 *
 * <ul>
 *   <li>A lookup that misses both tiers calls the loader once, however many readers ask for the
 *       same block at the same time (single flight); all of them get the same future.
 *   <li>A disk hit is promoted to memory. With {@link DiskWritePolicy#WRITE_ON_EVICT} a block the
 *       memory tier evicts is written to disk, so it stays reachable; with
 *       {@link DiskWritePolicy#WRITE_THROUGH} every loaded block is written at once.
 *   <li>Disk files carry a CRC32C; a file that fails verification is dropped and the block is
 *       loaded again, never returned.
 *   <li>A disk that fails (full, I/O errors) turns the disk tier off with one log line; the cache
 *       goes on memory-only. Lookups only fail when the loader fails.
 * </ul>
 *
 * <p>Bounds: the memory tier holds at most {@code memoryBytes} plus one block once maintenance
 * has run (Caffeine evicts on the writing thread here, not asynchronously); blocks evicted and
 * still waiting for their disk write add at most {@code maxPendingWriteBytes} of heap. The disk
 * tier holds at most {@code diskBytes} plus one block.
 *
 * <p>Thread-safe. No method blocks on I/O: disk reads and writes run on the cache's own threads.
 */
public final class HybridBlockCache implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(HybridBlockCache.class);

  /** Heap bytes charged per entry on top of the block: key, strings, Caffeine node. */
  static final int ENTRY_OVERHEAD_BYTES = 128;

  private static final int PREFETCH_PARALLELISM = 16;

  private final BlockCacheConfig config;
  private final AsyncCache<BlockKey, byte[]> memory;
  private final DiskTier disk;
  private final boolean ownsDiskDirectory;
  private volatile boolean diskActive;
  private final ExecutorService diskReaders;
  private final ExecutorService diskWriter;
  private final ConcurrentHashMap<BlockKey, byte[]> pendingWrites = new ConcurrentHashMap<>();
  private final AtomicLong pendingBytes = new AtomicLong();
  /** Write-through loads in flight; invalidate removes them so that their result is not kept. */
  private final ConcurrentHashMap<BlockKey, Object> writeThroughLoads = new ConcurrentHashMap<>();

  private final LongAdder lookups = new LongAdder();
  private final LongAdder memoryMisses = new LongAdder();
  private final LongAdder memoryEvictions = new LongAdder();
  private final LongAdder diskHits = new LongAdder();
  private final LongAdder diskMisses = new LongAdder();
  private final LongAdder remoteLoads = new LongAdder();
  private final LongAdder diskWritesDropped = new LongAdder();
  private final LongAdder diskBytesWritten = new LongAdder();
  private final LatencyHistogram remoteLoadLatency = new LatencyHistogram();
  private final LatencyHistogram diskLoadLatency = new LatencyHistogram();

  /** Creates a cache on the local filesystem. */
  public HybridBlockCache(BlockCacheConfig config) {
    this(config, DiskIo.LOCAL);
  }

  HybridBlockCache(BlockCacheConfig config, DiskIo io) {
    this.config = config;
    this.memory = Caffeine.newBuilder()
        .maximumWeight(config.memoryBytes())
        .weigher((BlockKey k, byte[] v) -> ENTRY_OVERHEAD_BYTES + v.length)
        .executor(Runnable::run)
        // An eviction listener runs atomically with the eviction, so an evicted block is in the
        // disk write queue before another reader can miss it in memory.
        .evictionListener(this::onMemoryRemoval)
        .buildAsync();
    if (config.diskBytes() > 0) {
      try {
        Path dir = config.diskDirectory();
        this.ownsDiskDirectory = dir == null;
        if (dir == null) {
          dir = Files.createTempDirectory("stratus-cache-");
        }
        this.disk = new DiskTier(dir, config.diskBytes(), io);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot prepare the block cache disk directory "
            + config.diskDirectory() + ": " + e.getMessage(), e);
      }
      this.diskActive = true;
      this.diskReaders = Executors.newFixedThreadPool(config.diskReadThreads(),
          new NamedDaemonThreadFactory("stratus-cache-disk-read"));
      this.diskWriter = Executors.newSingleThreadExecutor(new NamedDaemonThreadFactory("stratus-cache-disk-write"));
    } else {
      this.disk = null;
      this.ownsDiskDirectory = false;
      this.diskActive = false;
      this.diskReaders = null;
      this.diskWriter = null;
    }
  }

  /** The configuration this cache was built with. */
  public BlockCacheConfig config() {
    return config;
  }

  /**
   * Returns the block, from memory, disk or {@code loader}, in that order. The future fails only
   * when the loader fails (or returns a block of the wrong length); a failed load is not cached.
   */
  public CompletableFuture<byte[]> get(BlockKey key, BlockLoader loader) {
    lookups.increment();
    return lookup(key, loader);
  }

  private CompletableFuture<byte[]> lookup(BlockKey key, BlockLoader loader) {
    @SuppressWarnings("unchecked")
    CompletableFuture<byte[]>[] started = new CompletableFuture[1];
    CompletableFuture<byte[]> entry = memory.get(key, (k, executor) -> {
      started[0] = loadBelowMemory(k, loader);
      // Caffeine logs every failed load with a stack trace; the cached future completes with
      // null instead, which Caffeine drops quietly, and the failure reaches callers through
      // the load itself.
      return started[0].handle((bytes, error) -> error == null ? bytes : null);
    });
    if (started[0] != null) {
      return started[0];
    }
    if (entry.isDone()) {
      byte[] bytes = entry.join();
      if (bytes != null) {
        return entry;
      }
      // A failed load not dropped yet: this caller must reach the loader, not that failure.
      memory.asMap().remove(key, entry);
      return lookup(key, loader);
    }
    return entry.thenCompose(bytes -> bytes != null ? CompletableFuture.completedFuture(bytes)
        : retryAfterFailedLoad(key, entry, loader));
  }

  private CompletableFuture<byte[]> retryAfterFailedLoad(BlockKey key,
      CompletableFuture<byte[]> failed, BlockLoader loader) {
    memory.asMap().remove(key, failed);
    return lookup(key, loader);
  }


  /** The block if the memory tier holds it now, else {@code null}; never loads. */
  public byte[] getIfPresentInMemory(BlockKey key) {
    CompletableFuture<byte[]> f = memory.getIfPresent(key);
    return f != null && f.isDone() && !f.isCompletedExceptionally() ? f.join() : null;
  }

  /**
   * Loads the blocks that are not in memory yet, at most 16 at a time, for a worker that takes
   * over a key-group range and warms up with the previous owner's hot blocks. Blocks that fail
   * to load are skipped.
   *
   * @return the number of blocks that are in memory after the call
   */
  public CompletableFuture<Integer> prefetch(Collection<BlockKey> keys, BlockLoader loader) {
    Iterator<BlockKey> pending = List.copyOf(keys).iterator();
    AtomicInteger loaded = new AtomicInteger();
    List<CompletableFuture<Void>> lanes = new ArrayList<>();
    for (int i = 0; i < Math.min(PREFETCH_PARALLELISM, keys.size()); i++) {
      lanes.add(prefetchLane(pending, loader, loaded));
    }
    return CompletableFuture.allOf(lanes.toArray(CompletableFuture[]::new))
        .thenApply(v -> loaded.get());
  }

  private CompletableFuture<Void> prefetchLane(Iterator<BlockKey> pending, BlockLoader loader,
      AtomicInteger loaded) {
    while (true) {
      BlockKey next;
      synchronized (pending) {
        if (!pending.hasNext()) {
          return CompletableFuture.completedFuture(null);
        }
        next = pending.next();
      }
      CompletableFuture<Void> counted = get(next, loader).handle((bytes, error) -> {
        if (error == null) {
          loaded.incrementAndGet();
        } else {
          LOG.debug("Prefetch of {} failed: {}", next, error.toString());
        }
        return null;
      });
      // Blocks already at hand loop here; chaining them would nest one call per block on the
      // stack and overflow it for a long list.
      if (!counted.isDone()) {
        return counted.thenCompose(v -> prefetchLane(pending, loader, loaded));
      }
    }
  }

  /**
   * Puts blocks the caller holds the bytes of into the memory tier where it has neither the
   * block nor a load of it in flight (that load finishes for its callers): the blocks of a file
   * just written, or of one large read that warms the cache. Never waits: waiting for in-flight
   * loads, which queue behind every other miss at the object store, would hold a warm-up for
   * seconds. The policy admits and evicts them as loaded blocks.
   *
   * @return how many blocks were put
   */
  public int putIfAbsent(Collection<BlockKey> keys, Function<BlockKey, byte[]> bytes) {
    int put = 0;
    for (BlockKey key : keys) {
      if (memory.asMap().putIfAbsent(key, CompletableFuture.completedFuture(bytes.apply(key)))
          == null) {
        put++;
      }
    }
    return put;
  }

  /**
   * The keys of the memory tier's hottest blocks, hottest first, at most {@code limit}: what a
   * worker hands over with a key-group range so the next owner can {@link #prefetch} them.
   */
  public List<BlockKey> hottestBlocks(int limit) {
    // Reads are recorded in a buffer the policy drains later: rank them too.
    memory.synchronous().cleanUp();
    return List.copyOf(memory.synchronous().policy().eviction().orElseThrow()
        .hottest(limit).keySet());
  }

  /**
   * Drops every block of {@code file} from both tiers; called when the file is deleted. Loads of
   * the file that are in flight complete for their callers but are not kept.
   */
  public void invalidate(String file) {
    memory.synchronous().asMap().keySet().removeIf(k -> k.file().equals(file));
    writeThroughLoads.keySet().removeIf(k -> k.file().equals(file));
    pendingWrites.keySet().removeIf(k -> k.file().equals(file));
    if (disk != null) {
      // Now, so that the next get misses the disk even while the writer is busy; and again on
      // the writer, behind a write of the file that may be in flight.
      disk.invalidateFile(file);
      submitToDiskWriter(() -> disk.invalidateFile(file));
    }
  }

  /** Runs pending maintenance of the memory tier (evictions); for tests and metrics. */
  public void cleanUp() {
    memory.synchronous().cleanUp();
  }

  /** Bytes held by the memory tier, as weighed for its bound. */
  public long memoryBytesUsed() {
    return memory.synchronous().policy().eviction().orElseThrow().weightedSize().orElse(0);
  }

  /** Bytes held by the disk tier, headers included. */
  public long diskBytesUsed() {
    return disk == null ? 0 : disk.weightedSize();
  }

  /** Whether the disk tier is in use: configured and not failed. */
  public boolean diskActive() {
    return diskActive;
  }

  /** A snapshot of the counters. */
  public CacheMetrics metrics() {
    long lookupCount = lookups.sum();
    long memMisses = memoryMisses.sum();
    var policy = memory.synchronous().policy().eviction().orElseThrow();
    CacheMetrics.TierMetrics mem = new CacheMetrics.TierMetrics(
        Math.max(0, lookupCount - memMisses), memMisses, memoryEvictions.sum(),
        memoryBytesUsed(), policy.getMaximum(), memory.synchronous().estimatedSize(), 0);
    CacheMetrics.TierMetrics dsk = disk == null
        ? new CacheMetrics.TierMetrics(0, 0, 0, 0, 0, 0, 0)
        : new CacheMetrics.TierMetrics(diskHits.sum(), diskMisses.sum(), disk.evictionCount(),
            disk.weightedSize(), disk.maximumSize(), disk.entryCount(),
            disk.checksumFailureCount());
    return new CacheMetrics(mem, dsk, remoteLoads.sum(), remoteLoadLatency.summary(),
        diskLoadLatency.summary(), diskActive, diskWritesDropped.sum(), diskBytesWritten.sum());
  }

  /** Stops the disk threads and deletes the disk tier's files. */
  @Override
  public void close() {
    memory.synchronous().invalidateAll();
    if (disk == null) {
      return;
    }
    diskActive = false;
    // Not shutdownNow(): it would drop queued reads and leave their callers' futures pending
    // forever. Reads that run after close find nothing on disk and go to the loader.
    diskReaders.shutdown();
    diskWriter.shutdown();
    try {
      if (!diskWriter.awaitTermination(10, TimeUnit.SECONDS)) {
        diskWriter.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    disk.clear();
    try {
      disk.deleteBlockFiles();
      if (ownsDiskDirectory) {
        Files.deleteIfExists(disk.directory());
      }
    } catch (IOException e) {
      LOG.debug("Could not clean up block cache directory {}: {}", disk.directory(), e.toString());
    }
  }

  private CompletableFuture<byte[]> loadBelowMemory(BlockKey key, BlockLoader loader) {
    memoryMisses.increment();
    byte[] pending = pendingWrites.get(key);
    if (pending != null) {
      diskHits.increment();
      return CompletableFuture.completedFuture(pending);
    }
    if (!diskActive) {
      return loadRemote(key, loader);
    }
    if (!disk.contains(key)) {
      diskMisses.increment();
      return loadRemote(key, loader);
    }
    long start = System.nanoTime();
    CompletableFuture<byte[]> fromDisk;
    try {
      fromDisk = CompletableFuture.supplyAsync(() -> readDisk(key), diskReaders);
    } catch (RejectedExecutionException e) {
      fromDisk = CompletableFuture.completedFuture(null);
    }
    return fromDisk.thenCompose(bytes -> {
      if (bytes != null) {
        diskHits.increment();
        diskLoadLatency.record(System.nanoTime() - start);
        return CompletableFuture.completedFuture(bytes);
      }
      diskMisses.increment();
      return loadRemote(key, loader);
    });
  }

  private byte[] readDisk(BlockKey key) {
    try {
      return disk.read(key);
    } catch (IOException | RuntimeException e) {
      disableDisk(e);
      return null;
    }
  }

  private CompletableFuture<byte[]> loadRemote(BlockKey key, BlockLoader loader) {
    remoteLoads.increment();
    long start = System.nanoTime();
    boolean writeThrough = diskActive && config.diskWritePolicy() == DiskWritePolicy.WRITE_THROUGH;
    Object token = new Object();
    if (writeThrough) {
      writeThroughLoads.put(key, token);
    }
    CompletableFuture<byte[]> load;
    try {
      load = loader.load(key);
    } catch (RuntimeException e) {
      load = CompletableFuture.failedFuture(e);
    }
    CompletableFuture<byte[]> result = load.thenApply(bytes -> {
      remoteLoadLatency.record(System.nanoTime() - start);
      if (bytes == null || bytes.length != key.length()) {
        throw new IllegalStateException("loader returned " + (bytes == null ? "null" : bytes.length
            + " bytes") + " for block " + key + ", expected " + key.length() + " bytes");
      }
      if (writeThrough && writeThroughLoads.remove(key, token)) {
        scheduleDiskWrite(key, bytes);
      }
      return bytes;
    });
    if (writeThrough) {
      result.whenComplete((bytes, error) -> writeThroughLoads.remove(key, token));
    }
    return result;
  }

  private void onMemoryRemoval(BlockKey key, byte[] value, RemovalCause cause) {
    if (cause != RemovalCause.SIZE) {
      return;
    }
    memoryEvictions.increment();
    if (config.diskWritePolicy() == DiskWritePolicy.WRITE_ON_EVICT) {
      scheduleDiskWrite(key, value);
    }
  }

  private void scheduleDiskWrite(BlockKey key, byte[] value) {
    if (!diskActive || value == null || disk.contains(key)) {
      return;
    }
    long size = value.length;
    if (pendingBytes.addAndGet(size) > config.maxPendingWriteBytes()) {
      pendingBytes.addAndGet(-size);
      diskWritesDropped.increment();
      return;
    }
    if (pendingWrites.putIfAbsent(key, value) != null) {
      pendingBytes.addAndGet(-size);
      return;
    }
    boolean queued = submitToDiskWriter(() -> {
      try {
        if (diskActive && pendingWrites.get(key) == value && !disk.contains(key)) {
          disk.write(key, value);
          diskBytesWritten.add(value.length);
        }
      } catch (IOException | RuntimeException e) {
        disableDisk(e);
      } finally {
        pendingWrites.remove(key, value);
        pendingBytes.addAndGet(-size);
      }
    });
    if (!queued) {
      pendingWrites.remove(key, value);
      pendingBytes.addAndGet(-size);
    }
  }

  private boolean submitToDiskWriter(Runnable task) {
    try {
      diskWriter.execute(task);
      return true;
    } catch (RejectedExecutionException e) {
      return false;
    }
  }

  private void disableDisk(Throwable cause) {
    synchronized (this) {
      if (!diskActive) {
        return;
      }
      diskActive = false;
    }
    LOG.error("Block cache disk tier in {} failed ({}); the cache continues memory-only",
        disk.directory(), cause.toString());
    submitToDiskWriter(disk::clear);
  }

}
