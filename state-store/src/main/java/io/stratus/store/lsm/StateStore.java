package io.stratus.store.lsm;

import io.netty.util.concurrent.FastThreadLocalThread;
import io.stratus.cache.BlockKey;
import io.stratus.cache.BlockLoader;
import io.stratus.cache.HybridBlockCache;
import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.keygroup.KeyGroups;
import io.stratus.store.objectstore.ObjectStore;
import io.stratus.store.sst.Block;
import io.stratus.store.sst.BloomFilter;
import io.stratus.store.sst.EntryKind;
import io.stratus.store.sst.SstEntry;
import io.stratus.store.sst.SstReader;
import io.stratus.store.sst.SstWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A log-structured key-value store for the keyed state of one task, whose files live in an
 * object store. It owns a key-group range: every key starts with its key group (two bytes), and
 * keys outside the range are rejected on write and invisible on read.
 *
 * <ul>
 *   <li>Writes ({@link #put}, {@link #delete}, {@link #merge}) go to a memtable and return at
 *       once; a full memtable is sealed and flushed in the background to an SST object under
 *       {@code sst/}. Writers stall (block) only when sealed memtables or level-0 files pile up
 *       faster than the background can flush and compact them.
 *   <li>Reads ({@link #get}) are asynchronous: memtables, then files newest first, each file
 *       skipped by its Bloom filter or read one block at a time through the block cache.
 *   <li>{@link #checkpoint()} seals the memtable and publishes the version (a list of file
 *       pointers) once the data before the call is uploaded; its cost follows the data written
 *       since the last checkpoint. {@link #restore} opens a store for a key-group range from one
 *       or more published versions without reading any SST file.
 * </ul>
 *
 * <p>There is no write-ahead log: as in Flink, state after the last checkpoint is rebuilt by
 * replaying the sources. Thread-safe; writes are serialized by a lock that is held for the
 * memtable insert only.
 */
public final class StateStore implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(StateStore.class);
  /**
   * A memtable with this many deltas is flushed instead of getting another: a checkpoint lists
   * every delta of the memtables not yet flushed, and the store restored from it reads them as
   * level-0 files, so their number must not grow with the memtable's age (slow writers).
   */
  static final int MAX_DELTAS_PER_MEMTABLE = 8;

  /** What readers see: memtables and the version, swapped atomically. */
  private record ReadState(Memtable active, List<Memtable> immutables, Version version) {}

  /**
   * Entries of a memtable uploaded as small SST files for checkpoints only; {@code claimed} once
   * a checkpoint lists it (the coordinator then owns the files), guarded by the store's lock.
   */
  private static final class Delta {
    final CompletableFuture<List<SstFile>> files;
    boolean claimed;

    Delta(CompletableFuture<List<SstFile>> files) {
      this.files = files;
    }
  }

  private final StoreResources resources;
  private final ObjectStore objects;
  /**
   * The same store for what a checkpoint waits for (deltas, manifests): ahead of the block
   * reads queued at the object store, which a job beyond its cache keeps by the thousand.
   */
  private final ObjectStore checkpointObjects;
  private final HybridBlockCache cache;
  private final StoreOptions options;
  private final String storeId;
  private final KeyGroupRange range;
  private final BlockLoader blockLoader;
  private final BlockSource cachedBlocks;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition writable = lock.newCondition();
  private final List<CompletableFuture<Void>> writableWaiters = new ArrayList<>();
  private volatile ReadState state;
  private volatile long lastSeq;
  private long nextMemtableId;
  private final AtomicLong nextVersionId = new AtomicLong(1);
  private final AtomicLong nextPublishedVersion;

  private final SerialAsyncQueue flushQueue;
  /** Deltas being built or uploaded, for {@link #close} to wait for. */
  private final Set<CompletableFuture<List<SstFile>>> deltaUploads =
      ConcurrentHashMap.newKeySet();
  private final long deltaIntervalNanos;
  /** The deltas of each memtable not yet flushed, oldest first; guarded by {@code lock}. */
  private final Map<Memtable, List<Delta>> deltas = new IdentityHashMap<>();
  private final CompactionPicker picker;
  private final AtomicBoolean compactionScheduled = new AtomicBoolean();
  private final List<CompletableFuture<CheckpointHandle>> pendingCheckpoints =
      new CopyOnWriteArrayList<>();
  private final Set<CompletableFuture<Void>> pendingDeletes = ConcurrentHashMap.newKeySet();
  private final CacheWarmer warmer;

  private volatile boolean closed;
  private volatile RuntimeException fenced;
  private volatile Throwable compactionError;
  private volatile CompactionFilter compactionFilter;
  private int compactionFailures;

  private final LongAdder flushes = new LongAdder();
  private final LongAdder flushedBytes = new LongAdder();
  private final LongAdder deltaCount = new LongAdder();
  private final LongAdder deltaBytes = new LongAdder();
  private final LongAdder compactions = new LongAdder();
  private final LongAdder trivialMoves = new LongAdder();
  private final LongAdder compactionRead = new LongAdder();
  private final LongAdder compactionWritten = new LongAdder();
  private final LongAdder stallNanos = new LongAdder();
  private final LongAdder checkpoints = new LongAdder();
  private final LongAdder deletedFiles = new LongAdder();

  private StateStore(StoreResources resources, StoreOptions options, String storeId,
      KeyGroupRange range, List<List<FileRef>> levels, long nextPublishedVersion) {
    if (storeId == null || storeId.isBlank() || storeId.contains("..")
        || storeId.startsWith("/")) {
      throw new IllegalArgumentException("invalid store id '" + storeId + "'");
    }
    if (range.isEmpty() || !options.allKeyGroups().contains(range)) {
      throw new IllegalArgumentException("key-group range " + range + " of store " + storeId
          + " must be non-empty and within [0, " + (options.maxParallelism() - 1) + "]");
    }
    this.resources = resources;
    this.objects = resources.objectStore();
    this.checkpointObjects = objects.urgent();
    this.cache = resources.cache();
    this.options = options;
    this.storeId = storeId;
    this.range = range;
    this.blockLoader = this::loadBlock;
    this.cachedBlocks = (file, reader, index) -> Block.ofVerified(
        join(cache.get(blockKey(file, reader, index), blockLoader)), file.name(),
        reader.blockOffset(index));
    this.flushQueue = new SerialAsyncQueue(resources.flushExecutor());
    this.deltaIntervalNanos = TimeUnit.MILLISECONDS.toNanos(options.deltaIntervalMillis());
    this.picker = new CompactionPicker(options);
    this.warmer = new CacheWarmer(objects.urgent(), cache, resources.requestExecutor(),
        () -> closed);
    this.nextPublishedVersion = new AtomicLong(nextPublishedVersion);
    Version initial = new Version(0, levels, CompactionPicker.smallFileBytes(options),
        this::onVersionReleased);
    this.state = new ReadState(new Memtable(nextMemtableId++), List.of(), initial);
  }

  /** An empty store for {@code range}. */
  public static StateStore create(StoreResources resources, StoreOptions options, String storeId,
      KeyGroupRange range) {
    List<List<FileRef>> levels = new ArrayList<>();
    for (int i = 0; i < options.levels(); i++) {
      levels.add(List.of());
    }
    return new StateStore(resources, options, storeId, range, levels, 1);
  }

  /**
   * Opens a store for {@code range} from published versions whose key groups cover it: the union
   * of their files, each restricted to its version's key groups and to {@code range}. Reads the
   * manifests only; no SST file is touched until a read needs it.
   *
   * <p>If {@code storeId} equals the id of a handle, the store continues that handle's version
   * numbers; a second instance doing the same is fenced at its first checkpoint.
   */
  public static CompletableFuture<StateStore> restore(StoreResources resources,
      StoreOptions options, String storeId, KeyGroupRange range, List<CheckpointHandle> handles) {
    try {
      checkCoverage(options, storeId, range, handles);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    List<CompletableFuture<VersionManifest>> reads = new ArrayList<>();
    for (CheckpointHandle h : handles) {
      if (h.keyGroups().overlaps(range)) {
        reads.add(resources.objectStore().get(h.manifestKey())
            .thenApply(bytes -> VersionManifest.parse(h.manifestKey(), bytes)));
      }
    }
    return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenApply(v -> {
      Map<String, SstFile> files = new HashMap<>();
      List<List<FileRef>> levels = new ArrayList<>();
      for (int i = 0; i < options.levels(); i++) {
        levels.add(new ArrayList<>());
      }
      long nextVersion = 1;
      for (CompletableFuture<VersionManifest> read : reads) {
        VersionManifest m = read.join();
        if (m.maxParallelism() != options.maxParallelism()) {
          throw new IllegalArgumentException("version " + m.version() + " of store "
              + m.storeId() + " uses maxParallelism " + m.maxParallelism()
              + ", the store is opened with " + options.maxParallelism());
        }
        if (m.storeId().equals(storeId)) {
          nextVersion = Math.max(nextVersion, m.version() + 1);
        }
        KeyGroupRange take = m.keyGroups().intersect(range);
        for (VersionManifest.FileEntry f : m.files()) {
          if (f.level() >= options.levels()) {
            throw new IllegalArgumentException("version " + m.version() + " of store "
                + m.storeId() + " has a file on level " + f.level() + ", the store has only "
                + options.levels() + " levels");
          }
          SstFile file = files.computeIfAbsent(f.name(),
              name -> new SstFile(name, f.properties(), true));
          FileRef ref = FileRef.clip(file, f.visible().intersect(take));
          if (ref != null) {
            levels.get(f.level()).add(ref);
          }
        }
      }
      for (int level = 1; level < levels.size(); level++) {
        levels.get(level).sort((a, b) -> Arrays.compareUnsigned(a.smallest(), b.smallest()));
        Version.checkDisjoint(level, levels.get(level));
      }
      StateStore store = new StateStore(resources, options, storeId, range, levels, nextVersion);
      LOG.info("Store {} restored for key groups {} from {} version(s): {} file views",
          storeId, range, reads.size(), store.state.version().fileCount());
      store.maybeScheduleCompaction();
      return store;
    });
  }

  private static void checkCoverage(StoreOptions options, String storeId, KeyGroupRange range,
      List<CheckpointHandle> handles) {
    for (int i = 0; i < handles.size(); i++) {
      CheckpointHandle h = handles.get(i);
      if (h.maxParallelism() != options.maxParallelism()) {
        throw new IllegalArgumentException("checkpoint handle of store " + h.storeId()
            + " uses maxParallelism " + h.maxParallelism() + ", store " + storeId
            + " is opened with " + options.maxParallelism());
      }
      for (int j = 0; j < i; j++) {
        KeyGroupRange both = h.keyGroups().intersect(handles.get(j).keyGroups()).intersect(range);
        if (!both.isEmpty()) {
          throw new IllegalArgumentException("checkpoint handles of stores "
              + handles.get(j).storeId() + " and " + h.storeId() + " both cover key groups "
              + both);
        }
      }
    }
    int covered = 0;
    for (CheckpointHandle h : handles) {
      covered += h.keyGroups().intersect(range).size();
    }
    if (covered != range.size()) {
      List<String> missing = new ArrayList<>();
      int start = -1;
      for (int g = range.start(); g <= range.end() + 1; g++) {
        boolean isCovered = g <= range.end() && coveredBy(handles, g);
        if (!isCovered && g <= range.end() && start < 0) {
          start = g;
        } else if ((isCovered || g > range.end()) && start >= 0) {
          missing.add(KeyGroupRange.of(start, g - 1).toString());
          start = -1;
        }
      }
      throw new IllegalArgumentException("cannot open store " + storeId + " for key groups "
          + range + ": no checkpoint handle covers key groups " + String.join(", ", missing));
    }
  }

  private static boolean coveredBy(List<CheckpointHandle> handles, int keyGroup) {
    for (CheckpointHandle h : handles) {
      if (h.keyGroups().contains(keyGroup)) {
        return true;
      }
    }
    return false;
  }

  public String storeId() {
    return storeId;
  }

  public KeyGroupRange keyGroups() {
    return range;
  }

  public StoreOptions options() {
    return options;
  }

  // ---------------------------------------------------------------------------------- writes

  /** Sets {@code key} to {@code value}. */
  public void put(byte[] key, byte[] value) {
    write(key, EntryKind.PUT, value);
  }

  /** Removes {@code key}. */
  public void delete(byte[] key) {
    write(key, EntryKind.DELETE, new byte[0]);
  }

  /**
   * Appends {@code operand} to the value of {@code key} without reading it (an absent key counts
   * as empty): ListState's {@code add} writes a length-prefixed element this way.
   */
  public void merge(byte[] key, byte[] operand) {
    write(key, EntryKind.MERGE, operand);
  }

  private void write(byte[] key, EntryKind kind, byte[] value) {
    checkKey(key);
    if (value == null) {
      throw new NullPointerException("value of " + kind + " must not be null");
    }
    lock.lock();
    try {
      checkOpen();
      if (Thread.currentThread() instanceof FastThreadLocalThread) {
        // An event loop (a task) never waits here: it admits records only while the store is
        // writable (whenWritable), so what it writes now belongs to records already admitted
        // and the memtable overshoots by at most those. Blocking would stall every other task
        // and the coordinator sharing the loop until a flush gets through (forever, while the
        // object store is down).
        if (stalledLocked()) {
          maybeScheduleCompaction();
        }
      } else {
        awaitWritableLocked();
      }
      ReadState s = state;
      long seq = lastSeq + 1;
      Memtable active = s.active();
      active.add(key, seq, kind, value);
      lastSeq = seq;
      if (active.approximateBytes() >= options.memtableBytes()) {
        sealLocked();
      } else if (deltaIntervalNanos > 0
          && System.nanoTime() - active.pendingSinceNanos() >= deltaIntervalNanos) {
        if (deltas.getOrDefault(active, List.of()).size() >= MAX_DELTAS_PER_MEMTABLE) {
          sealLocked();
        } else {
          startDeltaLocked(active);
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Completes when a write would not stall: an event loop should wait on this instead of calling
   * a write that blocks.
   */
  public CompletableFuture<Void> whenWritable() {
    lock.lock();
    try {
      if (!stalledLocked() || closed) {
        return CompletableFuture.completedFuture(null);
      }
      CompletableFuture<Void> f = new CompletableFuture<>();
      writableWaiters.add(f);
      return f;
    } finally {
      lock.unlock();
    }
  }

  private boolean stalledLocked() {
    ReadState s = state;
    // Small level-0 files (deltas of a restored checkpoint, flushes of small memtables) are
    // merged with each other quickly and cheaply: they stall writes only in far larger numbers.
    return s.immutables().size() > options.maxImmutableMemtables()
        || (options.compactionEnabled()
            && (s.version().l0DepthOfLargeFiles() >= options.l0StopWritesTrigger()
                || s.version().l0Depth() >= 3 * options.l0StopWritesTrigger()));
  }

  private void awaitWritableLocked() {
    if (!stalledLocked()) {
      return;
    }
    long start = System.nanoTime();
    long nextReport = start + TimeUnit.SECONDS.toNanos(10);
    maybeScheduleCompaction();
    try {
      while (stalledLocked() && !closed) {
        writable.await(100, TimeUnit.MILLISECONDS);
        if (System.nanoTime() > nextReport) {
          ReadState s = state;
          LOG.warn("Writes to store {} stalled for {} s: {} sealed memtable(s) wait for their "
                  + "flush, level 0 {} file(s) deep (stop at {}), compaction {}", storeId,
              TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start), s.immutables().size(),
              s.version().l0Depth(), options.l0StopWritesTrigger(),
              compactionError != null ? "failed: " + compactionError
                  : compactionScheduled.get() ? "running" : "idle");
          nextReport += TimeUnit.SECONDS.toNanos(10);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for store " + storeId
          + " to flush", e);
    } finally {
      stallNanos.add(System.nanoTime() - start);
    }
    checkOpen();
  }

  private void signalWritableLocked() {
    if (!stalledLocked()) {
      writable.signalAll();
      for (CompletableFuture<Void> f : writableWaiters) {
        f.complete(null);
      }
      writableWaiters.clear();
    }
  }

  /** Seals the active memtable if it holds anything and queues its flush. */
  private void sealLocked() {
    ReadState s = state;
    if (s.active().isEmpty()) {
      return;
    }
    Memtable sealed = s.active();
    List<Memtable> immutables = new ArrayList<>(s.immutables().size() + 1);
    immutables.add(sealed);
    immutables.addAll(s.immutables());
    state = new ReadState(new Memtable(nextMemtableId++), List.copyOf(immutables), s.version());
    flushQueue.submit(() -> flush(sealed, 1));
  }

  // ----------------------------------------------------------------------------------- reads

  /**
   * The value of {@code key}, or {@code null} if it has none. Completes on the thread that
   * loaded the last block it needed (or at once when memtables or cached blocks answer).
   */
  public CompletableFuture<byte[]> get(byte[] key) {
    int keyGroup = checkKey(key);
    ReadState s = acquire();
    long snapshot = lastSeq;
    EntryCombiner combiner = new EntryCombiner();
    if (s.active().lookup(key, snapshot, combiner)) {
      s.version().release();
      return CompletableFuture.completedFuture(combiner.value());
    }
    for (Memtable m : s.immutables()) {
      if (m.lookup(key, snapshot, combiner)) {
        s.version().release();
        return CompletableFuture.completedFuture(combiner.value());
      }
    }
    PointRead read = new PointRead(key, keyGroup, s.version(), combiner);
    read.run();
    return read.result.whenComplete((v, e) -> s.version().release());
  }

  /**
   * A point read through the version's files, newest first. It runs synchronously while blocks
   * come from memory and continues on the completing thread when one has to load.
   */
  private final class PointRead {
    private final byte[] key;
    private final int keyGroup;
    private final Version version;
    private final EntryCombiner combiner;
    private final CompletableFuture<byte[]> result = new CompletableFuture<>();
    private int bloomHash;
    private boolean hashed;
    private int level;
    private int l0Index;

    PointRead(byte[] key, int keyGroup, Version version, EntryCombiner combiner) {
      this.key = key;
      this.keyGroup = keyGroup;
      this.version = version;
      this.combiner = combiner;
    }

    void run() {
      try {
        FileRef ref;
        while ((ref = nextCandidate()) != null) {
          CompletableFuture<SstReader> reader = ref.file().reader(objects);
          if (!reader.isDone()) {
            FileRef pending = ref;
            reader.whenComplete((r, e) -> {
              if (e != null) {
                result.completeExceptionally(unwrap(e));
                return;
              }
              try {
                if (probe(pending, r)) {
                  run();
                }
              } catch (RuntimeException failure) {
                result.completeExceptionally(unwrap(failure));
              }
            });
            return;
          }
          if (!probe(ref, reader.join())) {
            return;
          }
        }
        result.complete(combiner.value());
      } catch (RuntimeException e) {
        result.completeExceptionally(unwrap(e));
      }
    }

    /**
     * Looks in one file. Returns {@code true} to go on with the next file, {@code false} when
     * the read has finished or continues asynchronously.
     */
    private boolean probe(FileRef ref, SstReader reader) {
      if (!hashed) {
        bloomHash = BloomFilter.hash(key);
        hashed = true;
      }
      if (!reader.mayContainHash(bloomHash)) {
        return true;
      }
      int block = reader.blockFor(key);
      if (block >= reader.blockCount()) {
        return true;
      }
      SstFile file = ref.file();
      CompletableFuture<byte[]> stored = cache.get(blockKey(file, reader, block), blockLoader);
      if (!stored.isDone()) {
        stored.whenComplete((bytes, e) -> {
          if (e != null) {
            result.completeExceptionally(unwrap(e));
            return;
          }
          try {
            if (lookIn(file, reader, block, bytes)) {
              run();
            }
          } catch (RuntimeException failure) {
            result.completeExceptionally(unwrap(failure));
          }
        });
        return false;
      }
      return lookIn(file, reader, block, stored.join());
    }

    private boolean lookIn(SstFile file, SstReader reader, int block, byte[] stored) {
      SstEntry e = Block.ofVerified(stored, file.name(), reader.blockOffset(block)).find(key);
      if (e != null && combiner.add(e.kind(), e.value())) {
        result.complete(combiner.value());
        return false;
      }
      return true;
    }

    private FileRef nextCandidate() {
      while (level < version.levelCount()) {
        if (level == 0) {
          List<FileRef> l0 = version.level(0);
          while (l0Index < l0.size()) {
            FileRef ref = l0.get(l0Index++);
            if (ref.visible().contains(keyGroup) && ref.containsKey(key)) {
              return ref;
            }
          }
          level = 1;
          continue;
        }
        FileRef ref = version.find(level++, key);
        if (ref != null && ref.visible().contains(keyGroup)) {
          return ref;
        }
      }
      return null;
    }
  }

  /**
   * An iterator over the live keys in {@code [from, to)} ({@code to == null}: up to the end of
   * the store's key groups) at this moment. It may block on block loads: run it off event loops.
   */
  public StoreIterator iterator(byte[] from, byte[] to) {
    checkOpen();
    byte[] lower = from == null ? range.firstKey() : FileRef.max(from, range.firstKey());
    byte[] rangeEnd = range.endKeyExclusive();
    byte[] upper = to == null ? rangeEnd : rangeEnd == null ? to : FileRef.min(to, rangeEnd);
    ReadState s = acquire();
    long snapshot = lastSeq;
    try {
      List<EntryIterator> sources = new ArrayList<>();
      sources.add(s.active().iterator(lower, upper, snapshot));
      for (Memtable m : s.immutables()) {
        sources.add(m.iterator(lower, upper, snapshot));
      }
      Version v = s.version();
      for (FileRef ref : v.level(0)) {
        if (ref.overlaps(lower, upper)) {
          sources.add(new FileIterator(ref, join(ref.file().reader(objects)), lower, upper,
              cachedBlocks));
        }
      }
      for (int level = 1; level < v.levelCount(); level++) {
        List<FileRef> refs = v.overlapping(level, lower, upper);
        if (!refs.isEmpty()) {
          sources.add(new LevelIterator(refs, lower, upper, objects, cachedBlocks));
        }
      }
      return new StoreIterator(new MergingIterator(sources), v::release);
    } catch (RuntimeException e) {
      s.version().release();
      throw e;
    }
  }

  /** An iterator over the live keys that start with {@code prefix}. */
  public StoreIterator prefixIterator(byte[] prefix) {
    return iterator(prefix, prefixEnd(prefix));
  }

  /**
   * Up to {@code limit} live entries of {@code [from, to)}, read on the store's read threads.
   * For MapState iteration and window contents; to page through more, call again from the key
   * after the last one returned.
   */
  public CompletableFuture<List<KeyValue>> scan(byte[] from, byte[] to, int limit) {
    return CompletableFuture.supplyAsync(() -> {
      List<KeyValue> out = new ArrayList<>();
      try (StoreIterator it = iterator(from, to)) {
        while (out.size() < limit && it.hasNext()) {
          out.add(it.next());
        }
      }
      return out;
    }, resources.readExecutor());
  }

  /** Up to {@code limit} live entries whose keys start with {@code prefix}. */
  public CompletableFuture<List<KeyValue>> scanPrefix(byte[] prefix, int limit) {
    return scan(prefix, prefixEnd(prefix), limit);
  }

  /** The first key after every key that starts with {@code prefix}, or {@code null}. */
  static byte[] prefixEnd(byte[] prefix) {
    byte[] end = Arrays.copyOf(prefix, prefix.length);
    for (int i = end.length - 1; i >= 0; i--) {
      if (end[i] != (byte) 0xFF) {
        end[i]++;
        return Arrays.copyOf(end, i + 1);
      }
    }
    return null;
  }

  private ReadState acquire() {
    while (true) {
      ReadState s = state;
      if (s.version().tryRetain()) {
        return s;
      }
      // Only a close releases the current version for good; without this check a read racing
      // close would spin for ever.
      if (closed) {
        throw new IllegalStateException("store " + storeId + " is closed");
      }
      Thread.onSpinWait();
    }
  }

  private int checkKey(byte[] key) {
    int keyGroup = KeyGroups.keyGroupOfStateKey(key);
    if (!range.contains(keyGroup)) {
      throw new IllegalArgumentException("key group " + keyGroup + " is outside the key groups "
          + range + " of store " + storeId);
    }
    return keyGroup;
  }

  private BlockKey blockKey(SstFile file, SstReader reader, int block) {
    return new BlockKey(file.name(), reader.blockOffset(block), reader.blockLength(block));
  }

  private CompletableFuture<byte[]> loadBlock(BlockKey key) {
    // Building and signing an S3 request costs enough CPU that a burst of misses (a cold cache
    // after a rescale) would block the caller's event loop for seconds.
    return CompletableFuture.supplyAsync(() -> null, resources.requestExecutor())
        .thenCompose(v -> objects.getRange(key.file(), key.offset(), key.length()))
        .thenApply(bytes -> {
      Block.verifiedPayloadLength(bytes, key.file(), key.offset());
      return bytes;
    });
  }

  // ----------------------------------------------------------------------------------- flush

  private CompletableFuture<Void> flush(Memtable memtable, int attempt) {
    if (closed) {
      return CompletableFuture.completedFuture(null);
    }
    List<NewFile> outputs;
    try {
      outputs = writeFiles(memtable.iterator(null, null, Long.MAX_VALUE));
    } catch (RuntimeException e) {
      return retryFlush(memtable, attempt, e);
    }
    return upload(objects, outputs, true, options.cacheWrittenBlocks())
        .thenAccept(files -> installFlush(memtable, files))
        .exceptionallyCompose(e -> retryFlush(memtable, attempt, unwrap(e)));
  }

  private CompletableFuture<Void> retryFlush(Memtable memtable, int attempt, Throwable error) {
    return retryUpload("Flush", attempt, error, resources.flushExecutor(), null,
        () -> flush(memtable, attempt + 1));
  }

  /**
   * After a failed flush or delta upload: runs {@code again} after a backoff of 250 ms doubling
   * up to 30 s. The writes are never dropped.
   */
  private <T> CompletableFuture<T> retryUpload(String what, int attempt, Throwable error,
      Executor executor, T whenClosed, Supplier<CompletableFuture<T>> again) {
    if (closed) {
      return CompletableFuture.completedFuture(whenClosed);
    }
    long delayMs = Math.min(30_000, 250L << Math.min(7, attempt - 1));
    LOG.warn("{} of store {} failed (attempt {}), retrying in {} ms: {}", what, storeId, attempt,
        delayMs, error.toString());
    return CompletableFuture.supplyAsync(() -> null,
            CompletableFuture.delayedExecutor(delayMs, TimeUnit.MILLISECONDS, executor))
        .thenCompose(v -> again.get());
  }

  // ---------------------------------------------------------------------------------- deltas

  /**
   * Uploads {@code memtable}'s entries added since its last delta, in the background. Between
   * checkpoints this keeps what a checkpoint must upload down to one interval's writes, however
   * fast they come and however far the flushes lag behind.
   */
  private void startDeltaLocked(Memtable memtable) {
    Supplier<EntryIterator> window = memtable.drainPending();
    if (window == null) {
      return;
    }
    // Built one at a time on the delta thread, uploaded side by side: one slow upload must not
    // hold the next delta back.
    CompletableFuture<List<SstFile>> upload;
    try {
      upload = CompletableFuture.supplyAsync(() -> null, resources.deltaExecutor())
          .thenCompose(v -> uploadDelta(window, 1));
    } catch (RejectedExecutionException e) {
      upload = CompletableFuture.failedFuture(new IllegalStateException("the delta thread of "
          + "store " + storeId + " is shut down", e));
    }
    CompletableFuture<List<SstFile>> started = upload;
    deltaUploads.add(started);
    started.whenComplete((v, e) -> deltaUploads.remove(started));
    Delta delta = new Delta(started);
    deltas.computeIfAbsent(memtable, m -> new ArrayList<>()).add(delta);
  }

  private CompletableFuture<List<SstFile>> uploadDelta(Supplier<EntryIterator> window,
      int attempt) {
    if (closed) {
      return CompletableFuture.completedFuture(List.of());
    }
    List<NewFile> outputs;
    try {
      outputs = writeFiles(window.get());
    } catch (RuntimeException e) {
      return retryDelta(window, attempt, e);
    }
    return upload(checkpointObjects, outputs, false, false)
        .thenApply(files -> {
          deltaCount.increment();
          for (SstFile f : files) {
            deltaBytes.add(f.properties().fileSize());
          }
          return files;
        })
        .exceptionallyCompose(e -> retryDelta(window, attempt, unwrap(e)));
  }

  /**
   * Fails the pending checkpoints at once with the cause (a checkpoint must not wait out its
   * timeout for an object store that is down), then retries.
   */
  private CompletableFuture<List<SstFile>> retryDelta(Supplier<EntryIterator> window,
      int attempt, Throwable error) {
    RuntimeException failure = new IllegalStateException("delta upload of store " + storeId
        + " failed (attempt " + attempt + "): " + error.getMessage(), error);
    for (CompletableFuture<CheckpointHandle> cp : pendingCheckpoints) {
      cp.completeExceptionally(failure);
    }
    return retryUpload("Delta upload", attempt, error, resources.deltaExecutor(), List.of(),
        () -> uploadDelta(window, attempt + 1));
  }

  /** Deletes deltas no checkpoint listed, once uploaded: their memtable is flushed or dropped. */
  private void dropDeltasLocked(Memtable memtable) {
    List<Delta> dropped = deltas.remove(memtable);
    if (dropped == null) {
      return;
    }
    for (Delta d : dropped) {
      if (!d.claimed) {
        d.files.thenAccept(this::deleteQuietly);
      }
    }
  }

  private void installFlush(Memtable memtable, List<SstFile> files) {
    Version old;
    lock.lock();
    try {
      if (closed) {
        deleteQuietly(files);
        return;
      }
      ReadState s = state;
      List<FileRef> refs = new ArrayList<>();
      for (int i = files.size() - 1; i >= 0; i--) {
        FileRef ref = FileRef.clip(files.get(i), range);
        if (ref != null) {
          refs.add(ref);
        }
      }
      List<Memtable> immutables = new ArrayList<>(s.immutables());
      immutables.removeIf(m -> m == memtable);
      Version next = s.version().apply(nextVersionId.getAndIncrement(), Set.of(),
          Map.of(0, refs), this::onVersionReleased);
      state = new ReadState(s.active(), List.copyOf(immutables), next);
      old = s.version();
      dropDeltasLocked(memtable);
      flushes.increment();
      for (SstFile f : files) {
        flushedBytes.add(f.properties().fileSize());
      }
      signalWritableLocked();
    } finally {
      lock.unlock();
    }
    old.release();
    maybeScheduleCompaction();
  }

  /** A finished SST file and the object key it is uploaded under. */
  private record NewFile(String name, SstWriter.Result result) {}

  /** Writes a sorted run into SST files split at the target size. */
  private List<NewFile> writeFiles(EntryIterator entries) {
    List<NewFile> out = new ArrayList<>();
    SstWriter writer = null;
    String name = null;
    for (SstEntry e = entries.peek(); e != null; entries.advance(), e = entries.peek()) {
      if (writer == null) {
        name = "sst/" + UUID.randomUUID() + ".sst";
        writer = new SstWriter(name, options.blockSize(), options.bloomBitsPerKey(),
            (int) Math.min(options.targetFileBytes() + options.targetFileBytes() / 8,
                Integer.MAX_VALUE - 16));
      }
      writer.add(e.key(), e.kind(), e.value());
      if (writer.estimatedSize() >= options.targetFileBytes()) {
        out.add(new NewFile(name, writer.finish()));
        writer = null;
      }
    }
    if (writer != null) {
      out.add(new NewFile(name, writer.finish()));
    }
    return out;
  }

  /**
   * Uploads new files; on failure deletes whatever was uploaded. Each file's reader is pinned
   * from the bytes at hand. With {@code warmCache} (flushes) the blocks also go into the block
   * cache, as RocksDB's {@code prepopulate_block_cache} does: what was just written is what is
   * read next, and without this every read after a flush would go to the object store.
   * Compactions warm their outputs once installed (see {@link #warmBlocks}).
   */
  private CompletableFuture<List<SstFile>> upload(ObjectStore to, List<NewFile> outputs,
      boolean pin, boolean warmCache) {
    List<SstFile> files = new ArrayList<>();
    List<CompletableFuture<Void>> uploads = new ArrayList<>();
    for (NewFile f : outputs) {
      files.add(new SstFile(f.name(), f.result().properties(), false));
      uploads.add(to.put(f.name(), f.result().bytes()));
    }
    return CompletableFuture.allOf(uploads.toArray(CompletableFuture[]::new))
        .handle((v, e) -> {
          if (e != null) {
            deleteQuietly(files);
            throw new CompletionException(unwrap(e));
          }
          for (int i = 0; i < files.size() && pin; i++) {
            pinAndWarm(files.get(i), outputs.get(i).result().bytes(), warmCache);
          }
          return files;
        });
  }

  private void pinAndWarm(SstFile file, byte[] bytes, boolean warmCache) {
    long metaOffset = file.properties().metaOffset();
    file.pin(SstReader.parse(file.name(), bytes.length, metaOffset,
        Arrays.copyOfRange(bytes, (int) metaOffset, bytes.length)));
    if (warmCache) {
      warmBlocks(file.name(), bytes, metaOffset);
    }
  }

  /**
   * Puts a just-written file's blocks into the cache from the bytes at hand. A compaction
   * rewrites the blocks readers were hitting; without this, each compaction would send every
   * read of the rewritten range to the object store until the cache refilled (a throughput
   * collapse of seconds on a busy store). The cache's frequency-based admission keeps a hot
   * set from being pushed out by blocks no one reads.
   */
  private void warmBlocks(NewFile f) {
    warmBlocks(f.name(), f.result().bytes(), f.result().properties().metaOffset());
  }

  private void warmBlocks(String name, byte[] bytes, long metaOffset) {
    SstReader reader = SstReader.parse(name, bytes.length, metaOffset,
        Arrays.copyOfRange(bytes, (int) metaOffset, bytes.length));
    List<BlockKey> blocks = new ArrayList<>(reader.blockCount());
    for (int b = 0; b < reader.blockCount(); b++) {
      blocks.add(new BlockKey(name, reader.blockOffset(b), reader.blockLength(b)));
    }
    cache.putIfAbsent(blocks, key -> Arrays.copyOfRange(bytes, (int) key.offset(),
        (int) key.offset() + key.length()));
  }

  // ------------------------------------------------------------------------------ compaction

  private void maybeScheduleCompaction() {
    if (!options.compactionEnabled() || closed) {
      return;
    }
    if (compactionScheduled.compareAndSet(false, true)) {
      try {
        resources.compactionExecutor().execute(this::compactWhileDue);
      } catch (RejectedExecutionException e) {
        compactionScheduled.set(false);
      }
    }
  }

  private void compactWhileDue() {
    try {
      while (!closed && runOneCompaction()) {
        compactionError = null;
        compactionFailures = 0;
      }
    } catch (RuntimeException e) {
      if (!closed && !(e instanceof CancellationException)) {
        compactionError = e;
        long delayMs = Math.min(30_000, 500L << Math.min(6, compactionFailures++));
        LOG.warn("Compaction of store {} failed, retrying in {} ms: {}", storeId, delayMs,
            e.toString());
        CompletableFuture.delayedExecutor(delayMs, TimeUnit.MILLISECONDS)
            .execute(this::maybeScheduleCompaction);
      }
      compactionScheduled.set(false);
      return;
    }
    compactionScheduled.set(false);
    if (!closed && picker.pick(state.version()) != null) {
      maybeScheduleCompaction();
    }
  }

  /** Runs the most urgent compaction; returns {@code false} when none is due. */
  private boolean runOneCompaction() {
    ReadState s = acquire();
    List<NewFile> warm = null;
    try {
      CompactionPicker.Compaction c = picker.pick(s.version());
      if (c == null) {
        return false;
      }
      if (c.trivialMove()) {
        install(c, c.inputs());
        trivialMoves.increment();
        compactions.increment();
        return true;
      }
      List<EntryIterator> sources = new ArrayList<>();
      for (FileRef ref : c.inputs()) {
        sources.add(compactionInput(List.of(ref)));
      }
      if (!c.overlapping().isEmpty()) {
        sources.add(compactionInput(c.overlapping()));
      }
      MergingIterator merged = new MergingIterator(sources);
      boolean bottommost = c.bottommost();
      List<NewFile> outputs = writeFiles(new EntryIterator() {
        private SstEntry next = filtered(merged, bottommost);

        @Override
        public SstEntry peek() {
          return next;
        }

        @Override
        public void advance() {
          if (closed) {
            throw new CancellationException("store " + storeId + " closed during compaction");
          }
          next = filtered(merged, bottommost);
        }
      });
      List<SstFile> files = join(upload(objects, outputs, true, false));
      for (SstFile f : files) {
        compactionWritten.add(f.properties().fileSize());
      }
      List<FileRef> refs = new ArrayList<>();
      for (SstFile f : files) {
        FileRef ref = FileRef.clip(f, range);
        if (ref != null) {
          refs.add(ref);
        }
      }
      compactionRead.add(c.inputBytes());
      install(c, refs);
      compactions.increment();
      warm = options.cacheWrittenBlocks() ? outputs : null;
      return true;
    } finally {
      s.version().release();
      // After the inputs left the cache (when no reader holds the old version any more), so
      // the outputs take their place instead of competing with them for admission.
      if (warm != null) {
        for (NewFile f : warm) {
          warmBlocks(f);
        }
      }
    }
  }

  /** The next entry compaction writes, with expired values turned into tombstones or dropped. */
  private SstEntry filtered(MergingIterator merged, boolean bottommost) {
    CompactionFilter filter = compactionFilter;
    while (true) {
      SstEntry e = merged.nextEntry(bottommost);
      if (e == null || filter == null || e.kind() != EntryKind.PUT
          || !filter.expired(e.key(), e.value())) {
        return e;
      }
      if (!bottommost) {
        return new SstEntry(e.key(), EntryKind.DELETE, new byte[0]);
      }
    }
  }

  /** Installs the filter that compactions from now on apply. */
  public void setCompactionFilter(CompactionFilter filter) {
    this.compactionFilter = filter;
  }

  private EntryIterator compactionInput(List<FileRef> refs) {
    return new LevelIterator(refs, range.firstKey(), range.endKeyExclusive(), objects,
        new ReadaheadBlockSource(objects, options.compactionReadaheadBytes()));
  }

  private void install(CompactionPicker.Compaction c, List<FileRef> outputs) {
    Version old;
    lock.lock();
    try {
      if (closed) {
        if (!c.trivialMove()) {
          deleteQuietly(outputs.stream().map(FileRef::file).toList());
        }
        return;
      }
      ReadState s = state;
      Set<FileRef> removed = Collections.newSetFromMap(new IdentityHashMap<>());
      removed.addAll(c.inputs());
      if (!c.trivialMove()) {
        removed.addAll(c.overlapping());
      }
      Version next = c.withinLevel0()
          ? s.version().replaceInLevel0(nextVersionId.getAndIncrement(), c.inputs(), outputs,
              this::onVersionReleased)
          : s.version().apply(nextVersionId.getAndIncrement(), removed,
              Map.of(c.outputLevel(), outputs), this::onVersionReleased);
      state = new ReadState(s.active(), s.immutables(), next);
      old = s.version();
      signalWritableLocked();
    } finally {
      lock.unlock();
    }
    old.release();
  }

  private void onVersionReleased(Version version) {
    List<SstFile> obsolete = new ArrayList<>();
    for (int level = 0; level < version.levelCount(); level++) {
      for (FileRef ref : version.level(level)) {
        if (ref.file().release()) {
          obsolete.add(ref.file());
        }
      }
    }
    List<SstFile> toDelete = new ArrayList<>();
    for (SstFile file : obsolete) {
      file.unpin();
      // A checkpointed file outlives this store: the next owner of its key groups, often on
      // this worker (a rescale closes the old store first), reads the cached blocks. Files
      // never change under one name, so those blocks cannot go stale; eviction reclaims them.
      if (!file.shared()) {
        cache.invalidate(file.name());
        toDelete.add(file);
      }
    }
    if (!toDelete.isEmpty()) {
      deletedFiles.add(toDelete.size());
      deleteQuietly(toDelete);
    }
  }

  private void deleteQuietly(List<SstFile> files) {
    if (files.isEmpty()) {
      return;
    }
    List<String> names = files.stream().map(SstFile::name).toList();
    CompletableFuture<Void> deletion = objects.delete(names);
    pendingDeletes.add(deletion);
    deletion.whenComplete((v, e) -> {
      pendingDeletes.remove(deletion);
      if (e != null) {
        LOG.warn("Store {} could not delete {} unreferenced file(s) (first {}); they stay in "
            + "the bucket unreferenced (no sweep removes them yet): {}", storeId, names.size(),
            names.get(0), e.toString());
      }
    });
  }

  // ----------------------------------------------------------------------------- checkpoints

  /**
   * Publishes a version holding exactly the writes made before this call: the files of the
   * version current now, and above them, as level-0 files, the deltas of every memtable not yet
   * flushed. Nothing is sealed or flushed for it: the deltas hold all but the writes since the
   * last one (at most {@code deltaIntervalMillis} of them), which are uploaded now. Completes
   * once they are uploaded and the version object is written with a conditional write. Writes
   * after the call go on meanwhile and are not included.
   *
   * @return the handle of the published version; fails with {@link FencedException} if another
   *     instance published this version number first, or with the upload error
   */
  public CompletableFuture<CheckpointHandle> checkpoint() {
    CompletableFuture<CheckpointHandle> result = new CompletableFuture<>();
    List<CompletableFuture<List<SstFile>>> newestFirst = new ArrayList<>();
    Version version;
    long number;
    lock.lock();
    try {
      checkOpen();
      if (fenced != null) {
        return CompletableFuture.failedFuture(fenced);
      }
      ReadState s = acquire();
      version = s.version();
      List<Memtable> unflushed = new ArrayList<>();
      unflushed.add(s.active());
      unflushed.addAll(s.immutables());
      for (Memtable m : unflushed) {
        startDeltaLocked(m);
        List<Delta> ds = deltas.getOrDefault(m, List.of());
        for (int i = ds.size() - 1; i >= 0; i--) {
          ds.get(i).claimed = true;
          newestFirst.add(ds.get(i).files);
        }
      }
      number = nextPublishedVersion.getAndIncrement();
      pendingCheckpoints.add(result);
    } finally {
      lock.unlock();
    }
    CompletableFuture.allOf(newestFirst.toArray(CompletableFuture[]::new))
        .whenComplete((v, e) -> {
          if (e != null) {
            version.release();
            result.completeExceptionally(unwrap(e));
            return;
          }
          List<SstFile> deltaFiles = new ArrayList<>();
          for (CompletableFuture<List<SstFile>> d : newestFirst) {
            deltaFiles.addAll(d.join());
          }
          publish(result, number, version, deltaFiles);
        });
    return result.whenComplete((h, e) -> pendingCheckpoints.remove(result));
  }

  /** Writes manifest {@code number}: {@code deltas} (newest first), then {@code version}. */
  private void publish(CompletableFuture<CheckpointHandle> result, long number, Version version,
      List<SstFile> deltas) {
    if (result.isDone() || closed) {
      version.release();
      result.completeExceptionally(new IllegalStateException("store " + storeId + " is closed"));
      return;
    }
    List<VersionManifest.FileEntry> entries = new ArrayList<>();
    Set<String> names = new LinkedHashSet<>();
    for (SstFile delta : deltas) {
      FileRef ref = FileRef.clip(delta, range);
      if (ref != null) {
        delta.markShared();
        entries.add(VersionManifest.FileEntry.of(ref, 0));
        names.add(delta.name());
      }
    }
    for (int level = 0; level < version.levelCount(); level++) {
      for (FileRef ref : version.level(level)) {
        ref.file().markShared();
        entries.add(VersionManifest.FileEntry.of(ref, level));
        names.add(ref.file().name());
      }
    }
    VersionManifest manifest = new VersionManifest(VersionManifest.FORMAT, storeId, number,
        options.maxParallelism(), range, entries);
    String key = manifestKey(storeId, number);
    byte[] json = manifest.toJson();
    checkpointObjects.putIfAbsent(key, json).thenCompose(created -> created
        ? CompletableFuture.completedFuture(true)
        // A retried conditional write can find the object its own first attempt created.
        : checkpointObjects.get(key).thenApply(existing -> Arrays.equals(existing, json)))
        .whenComplete((created, error) -> {
      version.release();
      if (error != null) {
        result.completeExceptionally(unwrap(error));
      } else if (!created) {
        FencedException e = new FencedException("version " + number + " of store " + storeId
            + " was already published by another instance (" + key + "); this instance is "
            + "fenced and must stop");
        fenced = e;
        result.completeExceptionally(e);
      } else {
        checkpoints.increment();
        result.complete(new CheckpointHandle(storeId, number, key, range,
            options.maxParallelism(), List.copyOf(names)));
      }
    });
  }

  /** The object key of version {@code number} of {@code storeId}. */
  public static String manifestKey(String storeId, long number) {
    return "versions/" + storeId + "/" + String.format("%020d", number) + ".json";
  }

  /** Seals the memtable and completes when everything written so far is in SST files. */
  public CompletableFuture<Void> flush() {
    lock.lock();
    try {
      checkOpen();
      sealLocked();
      return flushQueue.drained();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Loads the store's blocks into the block cache, {@code hottestFirst} (the previous owner's
   * hottest blocks, see {@link #hottestBlocks}) before the rest, until {@code budgetBytes} are
   * loaded: after a restore onto another worker (a rescale or recovery) the cache is cold, and
   * fetching blocks one miss at a time costs one request per block. Only the key groups of the
   * store are read. Runs in the background while reads go on; a failed read is skipped.
   *
   * @return the bytes of hot blocks loaded and the bytes loaded in all, once done
   */
  public CompletableFuture<long[]> warmCache(long budgetBytes, Collection<BlockKey> hottestFirst) {
    ReadState s;
    try {
      s = acquire();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    CompletableFuture<long[]> warming;
    try {
      warming = warmer.warm(s.version(), budgetBytes, hottestFirst);
    } catch (RuntimeException e) {
      // The request threads are shut down: the store is closing.
      warming = CompletableFuture.failedFuture(e);
    }
    return warming.whenComplete((v, e) -> s.version().release());
  }

  /**
   * The worker cache's hottest blocks of this store's files, hottest first, at most
   * {@link StoreOptions#handoverBlocks}: what a checkpoint hands to the next owner of the
   * store's key groups. The cache is shared by the worker's stores; each gets the blocks of its
   * own files. The ranking is the cache policy's: once the memory tier is full, blocks read
   * repeatedly rank first; before, recently used ones do (and the whole state fits anyway).
   */
  public List<BlockKey> hottestBlocks() {
    int limit = options.handoverBlocks();
    if (limit == 0 || closed) {
      return List.of();
    }
    Set<String> files = new java.util.HashSet<>();
    ReadState s = acquire();
    try {
      for (int level = 0; level < s.version().levelCount(); level++) {
        for (FileRef view : s.version().level(level)) {
          files.add(view.file().name());
        }
      }
    } finally {
      s.version().release();
    }
    List<BlockKey> out = new ArrayList<>();
    // The shared cache ranks every store's blocks: look deeper than this store's share.
    for (BlockKey k : cache.hottestBlocks(4 * limit)) {
      if (files.contains(k.file())) {
        out.add(k);
        if (out.size() == limit) {
          break;
        }
      }
    }
    return out;
  }

  /**
   * Completes when no compaction is due or running: for tests and benchmarks that need a settled
   * shape. Fails with the last compaction error, if any.
   */
  public CompletableFuture<Void> awaitCompactions() {
    return flushQueue.drained().thenCompose(v -> CompletableFuture.runAsync(() -> {
      while (!closed) {
        if (compactionError != null) {
          throw new IllegalStateException("compaction of store " + storeId + " failed: "
              + compactionError.getMessage(), compactionError);
        }
        if (!compactionScheduled.get()) {
          if (picker.pick(state.version()) == null || !options.compactionEnabled()) {
            return;
          }
          maybeScheduleCompaction();
        }
        try {
          Thread.sleep(5);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }, resources.readExecutor()));
  }

  // ------------------------------------------------------------------------------- lifecycle

  /** A snapshot of the store's shape and counters. */
  public StoreMetrics metrics() {
    ReadState s = state;
    Version v = s.version();
    List<Integer> files = new ArrayList<>();
    List<Long> bytes = new ArrayList<>();
    long pinned = 0;
    Map<String, SstFile> distinct = new LinkedHashMap<>();
    for (int level = 0; level < v.levelCount(); level++) {
      files.add(v.level(level).size());
      bytes.add(v.levelBytes(level));
      for (FileRef ref : v.level(level)) {
        distinct.putIfAbsent(ref.file().name(), ref.file());
      }
    }
    for (SstFile f : distinct.values()) {
      pinned += f.pinnedBytes();
    }
    return new StoreMetrics(s.active().approximateBytes(), s.immutables().size(), files, bytes,
        flushes.sum(), flushedBytes.sum(), deltaCount.sum(), deltaBytes.sum(), compactions.sum(),
        trivialMoves.sum(), compactionRead.sum(), compactionWritten.sum(), stallNanos.sum(),
        checkpoints.sum(), pinned, deletedFiles.sum());
  }

  /** Names of the SST files the current version references, for tests and diagnostics. */
  public List<String> liveFiles() {
    Version v = state.version();
    List<String> names = new ArrayList<>();
    for (int level = 0; level < v.levelCount(); level++) {
      for (FileRef ref : v.level(level)) {
        if (!names.contains(ref.file().name())) {
          names.add(ref.file().name());
        }
      }
    }
    return names;
  }

  /**
   * Closes the store. Unflushed writes are dropped (they are after the last checkpoint, and the
   * sources replay them); files no checkpoint can reference are deleted.
   */
  @Override
  public void close() {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      for (Memtable m : List.copyOf(deltas.keySet())) {
        dropDeltasLocked(m);
      }
      writable.signalAll();
      for (CompletableFuture<Void> f : writableWaiters) {
        f.complete(null);
      }
      writableWaiters.clear();
    } finally {
      lock.unlock();
    }
    for (CompletableFuture<CheckpointHandle> cp : pendingCheckpoints) {
      cp.completeExceptionally(new IllegalStateException("store " + storeId + " was closed"));
    }
    state.version().release();
    awaitBackgroundWork();
  }

  /**
   * Waits (up to 30 s) for a running flush or compaction to stop and for the deletes they leave
   * behind, so that nothing of this store still talks to the object store when its owner closes
   * it.
   */
  private void awaitBackgroundWork() {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    try {
      flushQueue.drained().get(30, TimeUnit.SECONDS);
      for (CompletableFuture<List<SstFile>> d : List.copyOf(deltaUploads)) {
        d.handle((v, e) -> null)
            .get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      }
      while (compactionScheduled.get() && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      for (CompletableFuture<Void> d : List.copyOf(pendingDeletes)) {
        d.handle((v, e) -> null)
            .get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
      LOG.warn("Store {} closed while background work was still running: {}", storeId,
          e.toString());
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("store " + storeId + " is closed");
    }
  }

  /** Waits for a future, rethrowing its cause unwrapped. */
  static <T> T join(CompletableFuture<T> future) {
    try {
      return future.get();
    } catch (ExecutionException e) {
      throw asRuntime(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static RuntimeException asRuntime(Throwable t) {
    Throwable c = unwrap(t);
    return c instanceof RuntimeException r ? r : new IllegalStateException(c.getMessage(), c);
  }

  static Throwable unwrap(Throwable t) {
    Throwable c = t;
    while ((c instanceof CompletionException || c instanceof ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }
}
