package io.stratus.runtime.state;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.lsm.KeyValue;
import io.stratus.store.objectstore.ObjectStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.Checkpoint;
import org.rocksdb.CompactionStyle;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.StringAppendOperator;
import org.rocksdb.WriteOptions;

/**
 * The baseline: RocksDB on local disk, configured the way Flink configures its embedded RocksDB
 * (no WAL, LRU block cache holding index and filter blocks, Bloom filters at 10 bits per key,
 * 4 KiB blocks, 64 MiB write buffers, level compaction, 64 MiB target files). Reads run inline,
 * synchronously, as in Flink 1.x.
 *
 * <p>A snapshot is a RocksDB checkpoint whose files are uploaded to the object store (SST files
 * once, under {@code rocksdb/<storeId>/sst/}). Restoring downloads the files; a restore that
 * merges several snapshots (scale-in) rebuilds a new database from their keys, which is what
 * makes rescaling with local state cost time proportional to the state.
 */
public final class RocksDbBackend implements KeyedStateBackend {

  public static final String KIND = "rocksdb-local";

  static {
    RocksDB.loadLibrary();
  }

  /**
   * Sizes of one RocksDB instance.
   *
   * @param localDirectory   where instances keep their files (one subfolder each)
   * @param blockCacheBytes  LRU block cache
   * @param writeBufferBytes memtable size
   */
  public record Config(Path localDirectory, long blockCacheBytes, long writeBufferBytes) {

    /** Flink's default memtable size. */
    public static final long DEFAULT_WRITE_BUFFER_BYTES = 64L << 20;

    /** 256 MiB cache and 64 MiB write buffers under {@code directory}. */
    public static Config defaults(Path directory) {
      return new Config(directory, 256L << 20, DEFAULT_WRITE_BUFFER_BYTES);
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private final ObjectStore objects;
  private final LongAdder uploadedBytes = new LongAdder();
  private final String storeId;
  private final KeyGroupRange range;
  private final int maxParallelism;
  private final Path dir;
  private final LRUCache cache;
  private final Options options;
  private final WriteOptions writeOptions;
  private final ReadOptions readOptions;
  private final RocksDB db;
  private final AtomicLong nextVersion = new AtomicLong(1);
  private final Set<String> uploaded = ConcurrentHashMap.newKeySet();
  /** SST files downloaded at restore, by name: already in the object store under these keys. */
  private final Map<String, String> restoredFiles = new ConcurrentHashMap<>();

  private RocksDbBackend(ObjectStore objects, String storeId, KeyGroupRange range,
      int maxParallelism, Config config, Path dir) {
    this.objects = objects;
    this.storeId = storeId;
    this.range = range;
    this.maxParallelism = maxParallelism;
    this.dir = dir;
    this.cache = new LRUCache(config.blockCacheBytes());
    BlockBasedTableConfig table = new BlockBasedTableConfig()
        .setBlockCache(cache)
        .setBlockSize(4 << 10)
        .setFilterPolicy(new BloomFilter(10, false))
        .setCacheIndexAndFilterBlocks(true)
        .setPinL0FilterAndIndexBlocksInCache(true);
    this.options = new Options()
        .setCreateIfMissing(true)
        .setWriteBufferSize(config.writeBufferBytes())
        .setMaxWriteBufferNumber(2)
        .setCompactionStyle(CompactionStyle.LEVEL)
        .setTargetFileSizeBase(64L << 20)
        .setMaxBytesForLevelBase(256L << 20)
        .setMaxBackgroundJobs(2)
        .setMergeOperator(new StringAppendOperator(""))
        .setTableFormatConfig(table);
    this.writeOptions = new WriteOptions().setDisableWAL(true);
    this.readOptions = new ReadOptions();
    try {
      this.db = RocksDB.open(options, dir.toString());
    } catch (RocksDBException e) {
      throw new IllegalStateException("cannot open RocksDB for store " + storeId + " in " + dir
          + ": " + e.getMessage(), e);
    }
  }

  /** An empty instance. */
  public static RocksDbBackend create(ObjectStore objects, String storeId, KeyGroupRange range,
      int maxParallelism, Config config) {
    return new RocksDbBackend(objects, storeId, range, maxParallelism, config,
        freshDirectory(config, storeId));
  }

  private static Path freshDirectory(Config config, String storeId) {
    try {
      Files.createDirectories(config.localDirectory());
      return Files.createTempDirectory(config.localDirectory(),
          storeId.replaceAll("[^A-Za-z0-9_.-]", "_") + "-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a RocksDB directory in "
          + config.localDirectory() + ": " + e.getMessage(), e);
    }
  }

  /**
   * Restores {@code range} from snapshots: downloads one snapshot's files and drops foreign key
   * groups, or, when several snapshots meet the range, rebuilds a database from their keys.
   */
  public static CompletableFuture<RocksDbBackend> restore(ObjectStore objects, String storeId,
      KeyGroupRange range, int maxParallelism, Config config, List<StateHandle> handles) {
    List<StateHandle> relevant = handles.stream().filter(h -> h.keyGroups().overlaps(range))
        .toList();
    return CompletableFuture.supplyAsync(() -> {
      if (relevant.size() == 1) {
        Path dir = freshDirectory(config, storeId);
        Map<String, String> restored = download(objects, relevant.get(0), dir);
        RocksDbBackend backend = new RocksDbBackend(objects, storeId, range, maxParallelism,
            config, dir);
        // SST files are immutable: the next snapshot points at the uploaded ones it still
        // uses, as Flink's incremental checkpoints do after a restore.
        restored.forEach((name, key) -> {
          if (name.endsWith(".sst")) {
            backend.restoredFiles.put(name, key);
          }
        });
        backend.dropOutside(range);
        return backend;
      }
      RocksDbBackend backend = create(objects, storeId, range, maxParallelism, config);
      for (StateHandle h : relevant) {
        Path temp = freshDirectory(config, storeId + "-restore");
        download(objects, h, temp);
        try (Options o = new Options().setMergeOperator(new StringAppendOperator(""));
            RocksDB source = RocksDB.openReadOnly(o, temp.toString());
            RocksIterator it = source.newIterator()) {
          byte[] start = range.firstKey();
          byte[] end = range.endKeyExclusive();
          for (it.seek(start); it.isValid(); it.next()) {
            byte[] key = it.key();
            if (end != null && Arrays.compareUnsigned(key, end) >= 0) {
              break;
            }
            backend.put(key, it.value());
          }
        } catch (RocksDBException e) {
          throw new IllegalStateException("cannot read RocksDB snapshot " + h.manifestKey()
              + ": " + e.getMessage(), e);
        } finally {
          deleteRecursively(temp);
        }
      }
      return backend;
    });
  }

  /** Downloads a snapshot's files into {@code dir}; returns them (file name → object key). */
  private static Map<String, String> download(ObjectStore objects, StateHandle handle,
      Path dir) {
    try {
      Map<String, String> files = JSON.readValue(objects.get(handle.manifestKey()).join(),
          new TypeReference<LinkedHashMap<String, String>>() {});
      List<CompletableFuture<Void>> writes = new ArrayList<>();
      for (Map.Entry<String, String> f : files.entrySet()) {
        writes.add(objects.get(f.getValue()).thenAccept(bytes -> {
          try {
            Files.write(dir.resolve(f.getKey()), bytes);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }));
      }
      CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).join();
      return files;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot restore RocksDB snapshot " + handle.manifestKey()
          + ": " + e.getMessage(), e);
    }
  }

  private void dropOutside(KeyGroupRange keep) {
    try {
      byte[] first = KeyGroupRange.of(0, 0).firstKey();
      if (keep.start() > 0) {
        db.deleteRange(writeOptions, first, keep.firstKey());
      }
      byte[] end = keep.endKeyExclusive();
      if (end != null) {
        db.deleteRange(writeOptions, end, new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF});
      }
    } catch (RocksDBException e) {
      throw new IllegalStateException("cannot drop foreign key groups: " + e.getMessage(), e);
    }
  }

  @Override
  public String kind() {
    return KIND;
  }

  @Override
  public KeyGroupRange keyGroups() {
    return range;
  }

  @Override
  public CompletableFuture<byte[]> get(byte[] key) {
    try {
      return CompletableFuture.completedFuture(db.get(readOptions, key));
    } catch (RocksDBException e) {
      return CompletableFuture.failedFuture(failure("get", e));
    }
  }

  @Override
  public void put(byte[] key, byte[] value) {
    try {
      db.put(writeOptions, key, value);
    } catch (RocksDBException e) {
      throw failure("put", e);
    }
  }

  @Override
  public void delete(byte[] key) {
    try {
      db.delete(writeOptions, key);
    } catch (RocksDBException e) {
      throw failure("delete", e);
    }
  }

  @Override
  public void merge(byte[] key, byte[] operand) {
    try {
      db.merge(writeOptions, key, operand);
    } catch (RocksDBException e) {
      throw failure("merge", e);
    }
  }

  @Override
  public CompletableFuture<List<KeyValue>> scanPrefix(byte[] prefix, int limit) {
    List<KeyValue> out = new ArrayList<>();
    try (RocksIterator it = db.newIterator(readOptions)) {
      for (it.seek(prefix); it.isValid() && out.size() < limit; it.next()) {
        byte[] key = it.key();
        if (key.length < prefix.length
            || !Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length)) {
          break;
        }
        out.add(new KeyValue(key, it.value()));
      }
    }
    return CompletableFuture.completedFuture(out);
  }

  @Override
  public CompletableFuture<Void> whenWritable() {
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public long approximateSizeBytes() {
    try {
      return db.getLongProperty("rocksdb.total-sst-files-size")
          + db.getLongProperty("rocksdb.cur-size-all-mem-tables");
    } catch (RocksDBException e) {
      return 0;
    }
  }

  @Override
  public long uploadedBytes() {
    return uploadedBytes.sum();
  }

  @Override
  public CompletableFuture<StateHandle> snapshot() {
    long version = nextVersion.getAndIncrement();
    Path checkpointDir = dir.resolveSibling(dir.getFileName() + "-checkpoint-" + version);
    try (Checkpoint checkpoint = Checkpoint.create(db)) {
      checkpoint.createCheckpoint(checkpointDir.toString());
    } catch (RocksDBException e) {
      return CompletableFuture.failedFuture(failure("checkpoint", e));
    }
    String base = "rocksdb/" + storeId + "/";
    Map<String, String> files = new LinkedHashMap<>();
    List<CompletableFuture<Void>> uploads = new ArrayList<>();
    try (Stream<Path> list = Files.list(checkpointDir)) {
      for (Path f : (Iterable<Path>) list::iterator) {
        String name = f.getFileName().toString();
        boolean sst = name.endsWith(".sst");
        String restored = sst ? restoredFiles.get(name) : null;
        String key = restored != null ? restored
            : sst ? base + "sst/" + name : base + version + "/" + name;
        files.put(name, key);
        if (!sst || (restored == null && uploaded.add(key))) {
          byte[] bytes = Files.readAllBytes(f);
          uploads.add(objects.put(key, bytes).thenRun(() -> uploadedBytes.add(bytes.length)));
        }
      }
      String manifest = base + version + "/manifest.json";
      byte[] json = JSON.writeValueAsBytes(files);
      List<String> all = new ArrayList<>(files.values());
      all.add(manifest);
      return CompletableFuture.allOf(uploads.toArray(CompletableFuture[]::new))
          .thenCompose(v -> objects.put(manifest, json))
          .thenApply(v -> new StateHandle(KIND, storeId, version, manifest, range,
              maxParallelism, all))
          .whenComplete((h, e) -> deleteRecursively(checkpointDir));
    } catch (IOException e) {
      deleteRecursively(checkpointDir);
      return CompletableFuture.failedFuture(new UncheckedIOException(
          "cannot read RocksDB checkpoint " + checkpointDir + ": " + e.getMessage(), e));
    }
  }

  @Override
  public void setExpiryFilter(ExpiryFilter filter) {
    // RocksDB's compaction filters need native code (Flink ships its own); reads hide expired
    // entries here.
  }

  /** Bytes of SST files on local disk, for benchmarks. */
  public long localSstBytes() {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.toString().endsWith(".sst")).mapToLong(p -> p.toFile().length())
          .sum();
    } catch (IOException e) {
      return -1;
    }
  }

  @Override
  public void close() {
    db.close();
    options.close();
    writeOptions.close();
    readOptions.close();
    cache.close();
    deleteRecursively(dir);
  }

  private IllegalStateException failure(String operation, RocksDBException e) {
    return new IllegalStateException("RocksDB " + operation + " failed in store " + storeId
        + " (" + dir + "): " + e.getMessage(), e);
  }

  private static void deleteRecursively(Path path) {
    if (!Files.exists(path)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(path)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // best effort: a temp folder left behind is harmless
    }
  }
}
