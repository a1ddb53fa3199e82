package io.stratus.store.lsm;

import io.stratus.cache.BlockKey;
import io.stratus.cache.HybridBlockCache;
import io.stratus.store.objectstore.ObjectStore;
import io.stratus.store.sst.SstReader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * Fills a worker's block cache for a store that has just been opened from a checkpoint on it (a
 * rescale or a recovery moved its key groups here), so that its first reads do not each wait for
 * the object store. It opens every file (its index and filter) at once, then two passes share
 * one byte budget:
 *
 * <ol>
 *   <li>the blocks the previous owner read most ({@code hottestFirst}, listed by its cache and
 *       handed over with the checkpoint), limited to the key groups this store sees, hottest
 *       first; blocks close to each other are fetched together;
 *   <li>then the store's files in order, newest level first, in large ranged reads, until the
 *       budget is spent. Level 0 comes first and holds the checkpoint's deltas: the writes the
 *       old owner still had in memory, which no handed-over block can name.
 * </ol>
 *
 * When the store's files fit in the budget, the first pass is skipped: reading everything in
 * order costs a few large requests, where the hot pass spends one per few blocks.
 *
 * Blocks the cache holds already (the old owner was this worker) cost neither a read nor
 * budget.
 *
 * Without the first pass a skewed workload (a few keys take most updates) would warm blocks in
 * key order and still miss on its hot keys, scattered over the key space.
 */
final class CacheWarmer {

  /** Bytes per ranged read of the second pass. */
  private static final int CHUNK_BYTES = 4 << 20;
  /**
   * Ranged reads in flight in the first pass. Its reads are small and scattered, so more lanes
   * would finish it sooner, but the store's own first reads queue behind them at the object
   * store, and a recovery waits for those.
   */
  private static final int HOT_LANES = 8;
  /**
   * Hot blocks at most this many blocks apart are read in one request, the blocks between
   * included (not cached): at 100 MB/s per request, four 16 KiB blocks more cost well under the
   * 10 ms or so of a request's first byte.
   */
  private static final int HOT_GAP_BLOCKS = 4;
  /** Ranged reads in flight in the second pass. */
  private static final int SEQUENTIAL_LANES = 4;

  /**
   * Wanted blocks of one file close enough to read in one request (the blocks between are read
   * too, not cached); {@code rank} is its hottest block's place in the handed-over list.
   */
  private record Run(String file, long start, long end, List<BlockKey> blocks, int rank) {}

  private final ObjectStore objects;
  private final HybridBlockCache cache;
  private final Executor requests;
  private final BooleanSupplier closed;

  /**
   * @param requests where the files' tails are requested, one task per file (the store's
   *                 request threads, which also issue its misses)
   */
  CacheWarmer(ObjectStore objects, HybridBlockCache cache, Executor requests,
      BooleanSupplier closed) {
    this.objects = objects;
    this.cache = cache;
    this.requests = requests;
    this.closed = closed;
  }

  /**
   * Warms the cache for {@code version}'s files, {@code hottestFirst} first, until
   * {@code budgetBytes} are read. Failed reads are skipped. The caller keeps {@code version}
   * retained until the result completes.
   *
   * @return bytes of the hot blocks loaded and bytes loaded in all
   */
  CompletableFuture<long[]> warm(Version version, long budgetBytes,
      Collection<BlockKey> hottestFirst) {
    List<FileRef> views = new ArrayList<>();
    for (int level = 0; level < version.levelCount(); level++) {
      views.addAll(version.level(level));
    }
    // Every file's tail (index and Bloom filter) first, all at once: a read that misses the
    // memtables opens each level-0 file it passes, one after the other, and a restored store's
    // level 0 holds the checkpoint's deltas. Opened here in parallel, the first records wait for
    // one round trip instead of one per file. Each request is built in a task of its own:
    // building one costs milliseconds (tens on a JVM that has just started), and the caller is
    // the thread that restored the store, while the store's misses go through the same request
    // threads and must not wait for all of them.
    List<CompletableFuture<Void>> requested = new ArrayList<>();
    for (FileRef view : views) {
      requested.add(CompletableFuture.runAsync(() -> {
        if (!closed.getAsBoolean()) {
          view.file().reader(objects);
        }
      }, requests));
    }
    return CompletableFuture.allOf(requested.toArray(CompletableFuture[]::new))
        .thenCompose(v -> warmOpened(views, budgetBytes, hottestFirst));
  }

  private CompletableFuture<long[]> warmOpened(List<FileRef> views, long budgetBytes,
      Collection<BlockKey> hottestFirst) {
    AtomicLong budget = new AtomicLong(budgetBytes);
    AtomicLong loaded = new AtomicLong();
    // When all of it fits, reading it in order costs a few large requests; the hot pass
    // would spend one request per few blocks on what the second pass reads anyway.
    long total = views.stream().mapToLong(FileRef::size).sum();
    Collection<BlockKey> hot = total <= budgetBytes ? List.of() : hottestFirst;
    return warmHot(views, hot, budget, loaded).thenCompose(hotDone -> {
      long hotBytes = loaded.get();
      Iterator<FileRef> next = views.iterator();
      List<CompletableFuture<Void>> lanes = new ArrayList<>();
      for (int i = 0; i < SEQUENTIAL_LANES; i++) {
        lanes.add(sequentialLane(next, budget, loaded));
      }
      return CompletableFuture.allOf(lanes.toArray(CompletableFuture[]::new))
          .thenApply(v -> new long[] {hotBytes, loaded.get()});
    });
  }

  // ------------------------------------------------------------------------- hottest first

  private CompletableFuture<Void> warmHot(List<FileRef> views, Collection<BlockKey> hot,
      AtomicLong budget, AtomicLong loaded) {
    if (hot.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    Map<BlockKey, Integer> rank = new HashMap<>();
    Map<String, List<BlockKey>> byFile = new HashMap<>();
    for (BlockKey k : hot) {
      if (rank.putIfAbsent(k, rank.size()) == null && cache.getIfPresentInMemory(k) == null) {
        byFile.computeIfAbsent(k.file(), f -> new ArrayList<>()).add(k);
      }
    }
    List<FileRef> hinted = views.stream().filter(v -> byFile.containsKey(v.file().name()))
        .toList();
    List<CompletableFuture<List<Run>>> perView = new ArrayList<>();
    for (FileRef view : hinted) {
      perView.add(view.file().reader(objects)
          .thenApply(reader -> runs(view, reader, byFile.get(view.file().name()), rank))
          .exceptionally(e -> List.of()));
    }
    return CompletableFuture.allOf(perView.toArray(CompletableFuture[]::new)).thenCompose(v -> {
      List<Run> runs = new ArrayList<>();
      perView.forEach(f -> runs.addAll(f.join()));
      runs.sort(Comparator.comparingInt(Run::rank));
      Iterator<Run> next = runs.iterator();
      List<CompletableFuture<Void>> lanes = new ArrayList<>();
      for (int i = 0; i < HOT_LANES; i++) {
        lanes.add(hotLane(next, budget, loaded));
      }
      return CompletableFuture.allOf(lanes.toArray(CompletableFuture[]::new));
    });
  }

  /** The hinted blocks inside {@code view}'s keys, as runs of blocks close to each other. */
  private static List<Run> runs(FileRef view, SstReader reader, List<BlockKey> hinted,
      Map<BlockKey, Integer> rank) {
    if (reader.blockCount() == 0) {
      return List.of();
    }
    long from = reader.blockOffset(reader.blockFor(view.smallest()));
    int lastBlock = Math.min(reader.blockCount() - 1, reader.blockFor(view.limit()));
    long to = reader.blockOffset(lastBlock) + reader.blockLength(lastBlock);
    List<BlockKey> inView = hinted.stream()
        .filter(k -> k.offset() >= from && k.offset() + k.length() <= to)
        .distinct().sorted(Comparator.comparingLong(BlockKey::offset)).toList();
    List<Run> out = new ArrayList<>();
    List<BlockKey> run = new ArrayList<>();
    for (BlockKey k : inView) {
      if (!run.isEmpty()) {
        BlockKey first = run.get(0);
        BlockKey last = run.get(run.size() - 1);
        if (k.offset() - (last.offset() + last.length()) > HOT_GAP_BLOCKS * (long) last.length()
            || k.offset() + k.length() - first.offset() > CHUNK_BYTES) {
          out.add(toRun(run, rank));
          run = new ArrayList<>();
        }
      }
      run.add(k);
    }
    if (!run.isEmpty()) {
      out.add(toRun(run, rank));
    }
    return out;
  }

  private static Run toRun(List<BlockKey> blocks, Map<BlockKey, Integer> rank) {
    BlockKey last = blocks.get(blocks.size() - 1);
    int hottest = blocks.stream().mapToInt(rank::get).min().orElseThrow();
    return new Run(blocks.get(0).file(), blocks.get(0).offset(), last.offset() + last.length(),
        List.copyOf(blocks), hottest);
  }

  private CompletableFuture<Void> hotLane(Iterator<Run> runs, AtomicLong budget,
      AtomicLong loaded) {
    Run run;
    synchronized (runs) {
      if (closed.getAsBoolean() || budget.get() <= 0 || !runs.hasNext()) {
        return CompletableFuture.completedFuture(null);
      }
      run = runs.next();
    }
    // The last run shrinks to what is left of the budget (at least its first block).
    List<BlockKey> blocks = new ArrayList<>();
    long allowance = budget.get();
    for (BlockKey k : run.blocks()) {
      if (!blocks.isEmpty() && k.offset() + k.length() - run.start() > allowance) {
        break;
      }
      blocks.add(k);
    }
    BlockKey last = blocks.get(blocks.size() - 1);
    long end = last.offset() + last.length();
    budget.addAndGet(-(end - run.start()));
    return load(run.file(), run.start(), end, blocks, loaded)
        .thenCompose(v -> hotLane(runs, budget, loaded));
  }

  // ---------------------------------------------------------------------------- sequential

  private CompletableFuture<Void> sequentialLane(Iterator<FileRef> views, AtomicLong budget,
      AtomicLong loaded) {
    FileRef view;
    synchronized (views) {
      if (closed.getAsBoolean() || budget.get() <= 0 || !views.hasNext()) {
        return CompletableFuture.completedFuture(null);
      }
      view = views.next();
    }
    return view.file().reader(objects)
        .thenCompose(reader -> sequentialFile(view, reader, reader.blockFor(view.smallest()),
            budget, loaded))
        .exceptionally(e -> null)
        .thenCompose(v -> sequentialLane(views, budget, loaded));
  }

  private CompletableFuture<Void> sequentialFile(FileRef view, SstReader reader, int first,
      AtomicLong budget, AtomicLong loaded) {
    if (closed.getAsBoolean() || first >= reader.blockCount() || budget.get() <= 0) {
      return CompletableFuture.completedFuture(null);
    }
    // Blocks past the view's end hold foreign key groups.
    int lastBlock = Math.min(reader.blockCount() - 1, reader.blockFor(view.limit()));
    if (first > lastBlock) {
      return CompletableFuture.completedFuture(null);
    }
    long start = reader.blockOffset(first);
    int end = first + 1;
    long stop;
    // The last chunks shrink to what is left of the budget (at least one block per lane); the
    // lanes take their shares one at a time, or each would take all that is left.
    synchronized (budget) {
      long allowance = Math.min(CHUNK_BYTES, budget.get());
      while (end <= lastBlock
          && reader.blockOffset(end) + reader.blockLength(end) - start <= allowance) {
        end++;
      }
      stop = reader.blockOffset(end - 1) + reader.blockLength(end - 1);
      budget.addAndGet(-(stop - start));
    }
    List<BlockKey> blocks = new ArrayList<>(end - first);
    boolean cached = true;
    for (int b = first; b < end; b++) {
      BlockKey k = new BlockKey(view.file().name(), reader.blockOffset(b), reader.blockLength(b));
      blocks.add(k);
      cached &= cache.getIfPresentInMemory(k) != null;
    }
    int chunkEnd = end;
    if (cached) {
      budget.addAndGet(stop - start);
      return sequentialFile(view, reader, chunkEnd, budget, loaded);
    }
    return load(view.file().name(), start, stop, blocks, loaded)
        .thenCompose(v -> sequentialFile(view, reader, chunkEnd, budget, loaded));
  }

  /** Reads {@code [start, end)} of {@code file} in one request and caches {@code blocks}. */
  private CompletableFuture<Void> load(String file, long start, long end, List<BlockKey> blocks,
      AtomicLong loaded) {
    return objects.getRange(file, start, (int) (end - start))
        .thenAccept(chunk -> {
          loaded.addAndGet(chunk.length);
          cache.putIfAbsent(blocks, key -> Arrays.copyOfRange(chunk,
              (int) (key.offset() - start), (int) (key.offset() - start) + key.length()));
        })
        .handle((n, e) -> null);
  }
}
