package io.stratus.runtime.state;

import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.lsm.KeyValue;
import io.stratus.store.objectstore.ObjectStore;
import io.stratus.runtime.serde.BytesOut;
import io.stratus.runtime.serde.BytesIn;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * State in a sorted map on the heap: for small state and tests. A snapshot is a full copy
 * written as one object ({@code heap/<storeId>/<n>.snapshot}); restore reads the snapshots that
 * cover the range and keeps the range's keys.
 */
public final class HeapBackend implements KeyedStateBackend {

  public static final String KIND = "heap";

  private final ConcurrentSkipListMap<byte[], byte[]> map =
      new ConcurrentSkipListMap<>(Arrays::compareUnsigned);
  private final LongAdder uploadedBytes = new LongAdder();
  private final LongAdder sizeBytes = new LongAdder();
  private final ObjectStore objects;
  private final String storeId;
  private final KeyGroupRange range;
  private final int maxParallelism;
  private final AtomicLong nextVersion = new AtomicLong(1);

  public HeapBackend(ObjectStore objects, String storeId, KeyGroupRange range,
      int maxParallelism) {
    this.objects = objects;
    this.storeId = storeId;
    this.range = range;
    this.maxParallelism = maxParallelism;
  }

  /** Restores the key groups {@code range} from snapshots that cover it. */
  public static CompletableFuture<HeapBackend> restore(ObjectStore objects, String storeId,
      KeyGroupRange range, int maxParallelism, List<StateHandle> handles) {
    HeapBackend backend = new HeapBackend(objects, storeId, range, maxParallelism);
    List<CompletableFuture<Void>> reads = new ArrayList<>();
    for (StateHandle h : handles) {
      if (!h.keyGroups().overlaps(range)) {
        continue;
      }
      reads.add(objects.get(h.manifestKey()).thenAccept(bytes -> {
        BytesIn in = new BytesIn(bytes, 0, bytes.length);
        while (in.hasRemaining()) {
          byte[] key = in.readLengthPrefixed();
          byte[] value = in.readLengthPrefixed();
          if (range.containsKey(key)) {
            backend.map.put(key, value);
          }
        }
      }));
    }
    return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new))
        .thenApply(v -> backend);
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
    return CompletableFuture.completedFuture(map.get(key));
  }

  @Override
  public void put(byte[] key, byte[] value) {
    byte[] old = map.put(key, value);
    sizeBytes.add(old == null ? key.length + value.length : value.length - old.length);
  }

  @Override
  public void delete(byte[] key) {
    byte[] old = map.remove(key);
    if (old != null) {
      sizeBytes.add(-(key.length + old.length));
    }
  }

  @Override
  public void merge(byte[] key, byte[] operand) {
    if (map.merge(key, operand, (old, add) -> {
      byte[] out = Arrays.copyOf(old, old.length + add.length);
      System.arraycopy(add, 0, out, old.length, add.length);
      return out;
    }) == operand) {
      sizeBytes.add(key.length);
    }
    sizeBytes.add(operand.length);
  }

  @Override
  public long approximateSizeBytes() {
    return sizeBytes.sum();
  }

  @Override
  public CompletableFuture<List<KeyValue>> scanPrefix(byte[] prefix, int limit) {
    List<KeyValue> out = new ArrayList<>();
    for (Map.Entry<byte[], byte[]> e : map.tailMap(prefix, true).entrySet()) {
      if (out.size() >= limit || !startsWith(e.getKey(), prefix)) {
        break;
      }
      out.add(new KeyValue(e.getKey(), e.getValue()));
    }
    return CompletableFuture.completedFuture(out);
  }

  private static boolean startsWith(byte[] key, byte[] prefix) {
    return key.length >= prefix.length
        && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
  }

  @Override
  public CompletableFuture<Void> whenWritable() {
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public CompletableFuture<StateHandle> snapshot() {
    BytesOut out = new BytesOut(1 << 16);
    for (Map.Entry<byte[], byte[]> e : map.entrySet()) {
      out.writeLengthPrefixed(e.getKey()).writeLengthPrefixed(e.getValue());
    }
    long version = nextVersion.getAndIncrement();
    String key = "heap/" + storeId + "/" + String.format("%020d", version) + ".snapshot";
    byte[] bytes = out.toByteArray();
    return objects.put(key, bytes).thenApply(v -> {
      uploadedBytes.add(bytes.length);
      return new StateHandle(KIND, storeId, version, key, range, maxParallelism, List.of(key));
    });
  }

  @Override
  public long uploadedBytes() {
    return uploadedBytes.sum();
  }

  @Override
  public void setExpiryFilter(ExpiryFilter filter) {
    // The heap has no compaction; reads hide expired entries.
  }

  @Override
  public void close() {
    map.clear();
  }
}
