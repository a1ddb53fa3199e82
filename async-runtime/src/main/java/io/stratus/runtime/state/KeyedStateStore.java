package io.stratus.runtime.state;

import io.stratus.runtime.serde.Serde;
import io.stratus.store.lsm.KeyValue;
import io.stratus.runtime.serde.BytesOut;
import io.stratus.runtime.serde.BytesIn;
import java.nio.ByteBuffer;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * Hands out typed state handles for one keyed operator, over its task's backend. Every handle
 * reads the current record's key (and the operator's current namespace) from the running
 * {@link RecordContext}, encodes keys per {@link StateKeys} and values with the descriptor's
 * serde, adding an expiry time in front when the state has a TTL.
 */
public final class KeyedStateStore {

  /** Scan page size for MapState iteration and clearing. */
  private static final int SCAN_LIMIT = Integer.MAX_VALUE;

  private final KeyedStateBackend backend;
  private final RecordExecution execution;
  private final LongSupplier clock;
  private final Map<Integer, String> names = new HashMap<>();
  private final Map<Integer, StateTtlConfig> ttlStates = new HashMap<>();
  private byte[] namespace = new byte[0];
  /** Keys (or map prefixes) that reads in flight will write back to, see {@link WriteBack}. */
  private final Map<ByteBuffer, Watch> watches = new HashMap<>();
  /** Writes made through the handles so far. */
  private long writes;
  /** The last pending add or get of each reducing or aggregating state key. */
  private final Map<ByteBuffer, StateFuture<?>> lastFold = new HashMap<>();

  public KeyedStateStore(KeyedStateBackend backend, RecordExecution execution,
      LongSupplier clock) {
    this.backend = backend;
    this.execution = execution;
    this.clock = clock;
  }

  public KeyedStateBackend backend() {
    return backend;
  }

  public RecordExecution execution() {
    return execution;
  }

  /** Sets the namespace (a window, say) that state calls address from now on. */
  public void setNamespace(byte[] value) {
    namespace = value;
  }

  public byte[] namespace() {
    return namespace;
  }

  /** The state handle a descriptor declares. */
  @SuppressWarnings("unchecked")
  public <S> S state(StateDescriptor<S> descriptor) {
    int id = register(descriptor);
    StateTtlConfig ttl = descriptor.ttl();
    if (descriptor instanceof StateDescriptor.Value<?> d) {
      return (S) new ValueImpl<>(id, d.serde, ttl);
    }
    if (descriptor instanceof StateDescriptor.List<?> d) {
      return (S) new ListImpl<>(id, d.serde, ttl);
    }
    if (descriptor instanceof StateDescriptor.Map<?, ?> d) {
      return (S) new MapImpl<>(id, d.keySerde, d.valueSerde, ttl);
    }
    if (descriptor instanceof StateDescriptor.Reducing<?> d) {
      return (S) reducing(id, d, ttl);
    }
    if (descriptor instanceof StateDescriptor.Aggregating<?, ?, ?> d) {
      return (S) aggregating(id, d, ttl);
    }
    throw new IllegalArgumentException("unknown state descriptor " + descriptor);
  }

  private int register(StateDescriptor<?> descriptor) {
    int id = StateKeys.stateId(descriptor.name());
    String other = names.putIfAbsent(id, descriptor.name());
    if (other != null && !other.equals(descriptor.name())) {
      throw new IllegalArgumentException("states '" + other + "' and '" + descriptor.name()
          + "' hash to the same state id " + id + "; rename one of them");
    }
    if (descriptor.ttl() != null && !(descriptor instanceof StateDescriptor.List<?>)) {
      ttlStates.put(id, descriptor.ttl());
      backend.setExpiryFilter(this::expired);
    }
    return id;
  }

  /** Whether a stored entry of a TTL state has expired: for the backend's compaction. */
  private boolean expired(byte[] key, byte[] value, long now) {
    BytesIn r = new BytesIn(key, 2, key.length);
    int id = r.readVarInt();
    return ttlStates.containsKey(id) && value.length >= 8
        && new BytesIn(value, 0, 8).readLong() <= now;
  }

  private byte[] prefix(int stateId) {
    RecordContext ctx = execution.currentContext();
    if (ctx == null) {
      throw new IllegalStateException("keyed state is only accessible while processing a "
          + "record or a timer of a keyed stream");
    }
    return StateKeys.prefix(ctx.keyGroup(), stateId, ctx.keyBytes(), namespace);
  }

  private <T> StateFuture<T> future(CompletableFuture<T> f) {
    return StateFuture.of(f, execution);
  }

  // ---------------------------------------------------------------- value encoding with TTL

  private byte[] encode(byte[] payload, StateTtlConfig ttl) {
    if (ttl == null) {
      return payload;
    }
    BytesOut out = new BytesOut(8 + payload.length);
    out.writeLong(clock.getAsLong() + ttl.ttl().toMillis()).writeBytes(payload);
    return out.toByteArray();
  }

  /** The payload, or {@code null} if absent or expired. */
  private byte[] decode(byte[] stored, StateTtlConfig ttl) {
    if (stored == null || ttl == null) {
      return stored;
    }
    long expiresAt = new BytesIn(stored, 0, 8).readLong();
    if (expiresAt <= clock.getAsLong()) {
      return null;
    }
    return Arrays.copyOfRange(stored, 8, stored.length);
  }

  private boolean refreshOnRead(StateTtlConfig ttl) {
    return ttl != null && ttl.update() == StateTtlConfig.UpdateType.ON_READ_AND_WRITE;
  }

  // ------------------------------------------------------------- writes after pending reads

  /*
   * A record may read a state and write it before the read completes (writes apply at once,
   * reads may complete later, after the record's code has run on). A read that writes back what
   * it read (TTL refresh, dropping expired list elements, MapState.clear's deletes, folding into
   * reducing state) must then not undo that later write: it watches the key it writes back and
   * skips keys written since it was issued. Task-thread confined, like the handles.
   */

  private static final class Watch {
    int reads;
    final Map<ByteBuffer, Long> written = new HashMap<>();
  }

  /** A read in flight that may write back to {@code watched} (a state key or a map prefix). */
  private final class WriteBack {
    private final ByteBuffer watched;
    private final Watch watch;
    private final long since = writes;

    WriteBack(byte[] key) {
      watched = ByteBuffer.wrap(key);
      watch = watches.computeIfAbsent(watched, k -> new Watch());
      watch.reads++;
    }

    /** The read has completed; call once, before {@link #safe}. */
    void end() {
      if (--watch.reads == 0) {
        watches.remove(watched);
      }
    }

    /** Whether writing {@code key} back keeps every write made since the read was issued. */
    boolean safe(byte[] key) {
      Long at = watch.written.get(ByteBuffer.wrap(key));
      return at == null || at <= since;
    }
  }

  /** Notes a write of {@code key} (a map entry of {@code mapPrefix}, or {@code null}). */
  private void written(byte[] key, byte[] mapPrefix) {
    writes++;
    note(key, key);
    if (mapPrefix != null) {
      note(mapPrefix, key);
    }
  }

  private void note(byte[] watched, byte[] key) {
    Watch w = watches.get(ByteBuffer.wrap(watched));
    if (w != null) {
      w.written.put(ByteBuffer.wrap(key), writes);
    }
  }

  private void writeValue(byte[] key, byte[] value, byte[] mapPrefix) {
    written(key, mapPrefix);
    backend.put(key, value);
  }

  private void deleteKey(byte[] key, byte[] mapPrefix) {
    written(key, mapPrefix);
    backend.delete(key);
  }

  /**
   * Runs the reading operation {@code op} on {@code key} after the previous one the record
   * issued on it has completed: a fold reads what the fold before it wrote.
   */
  private <T> StateFuture<T> inOrder(byte[] key, Supplier<StateFuture<T>> op) {
    ByteBuffer k = ByteBuffer.wrap(key);
    StateFuture<?> previous = lastFold.get(k);
    StateFuture<T> next = previous == null ? op.get() : previous.thenCompose(v -> op.get());
    lastFold.put(k, next);
    next.thenAccept(v -> lastFold.remove(k, next));
    return next;
  }

  // -------------------------------------------------------------------------------- handles

  private final class ValueImpl<T> implements ValueState<T> {
    private final int id;
    private final Serde<T> serde;
    private final StateTtlConfig ttl;

    ValueImpl(int id, Serde<T> serde, StateTtlConfig ttl) {
      this.id = id;
      this.serde = serde;
      this.ttl = ttl;
    }

    @Override
    public StateFuture<T> value() {
      byte[] key = prefix(id);
      WriteBack refresh = refreshOnRead(ttl) ? new WriteBack(key) : null;
      return future(backend.get(key)).thenApply(stored -> {
        if (refresh != null) {
          refresh.end();
        }
        byte[] payload = decode(stored, ttl);
        if (payload == null) {
          return null;
        }
        if (refresh != null && refresh.safe(key)) {
          backend.put(key, encode(payload, ttl));
        }
        return serde.fromBytes(payload);
      });
    }

    /** Reads, then stores {@code fold(value)} unless the key was written meanwhile. */
    StateFuture<Void> fold(UnaryOperator<T> fold) {
      byte[] key = prefix(id);
      WriteBack write = new WriteBack(key);
      return value().thenAccept(old -> {
        write.end();
        if (write.safe(key)) {
          update(fold.apply(old));
        }
      });
    }

    @Override
    public void update(T value) {
      if (value == null) {
        clear();
      } else {
        writeValue(prefix(id), encode(serde.toBytes(value), ttl), null);
      }
    }

    @Override
    public void clear() {
      deleteKey(prefix(id), null);
    }
  }

  private final class ListImpl<T> implements ListState<T> {
    private final int id;
    private final Serde<T> serde;
    private final StateTtlConfig ttl;

    ListImpl(int id, Serde<T> serde, StateTtlConfig ttl) {
      this.id = id;
      this.serde = serde;
      this.ttl = ttl;
    }

    /** One element: {@code varint length | [expiresAt] | payload}. */
    private byte[] element(T value) {
      byte[] body = encode(serde.toBytes(value), ttl);
      BytesOut out = new BytesOut(body.length + 4);
      out.writeLengthPrefixed(body);
      return out.toByteArray();
    }

    @Override
    public StateFuture<List<T>> get() {
      byte[] key = prefix(id);
      WriteBack cleanup = ttl != null ? new WriteBack(key) : null;
      return future(backend.get(key)).thenApply(stored -> {
        if (cleanup != null) {
          cleanup.end();
        }
        List<T> out = new ArrayList<>();
        if (stored == null) {
          return out;
        }
        BytesIn in = new BytesIn(stored, 0, stored.length);
        boolean dropped = false;
        BytesOut kept = new BytesOut(stored.length);
        while (in.hasRemaining()) {
          byte[] body = in.readLengthPrefixed();
          byte[] payload = decode(body, ttl);
          if (payload == null) {
            dropped = true;
            continue;
          }
          out.add(serde.fromBytes(payload));
          kept.writeLengthPrefixed(refreshOnRead(ttl) ? encode(payload, ttl) : body);
        }
        if (cleanup == null || !cleanup.safe(key)) {
          return out;
        }
        if (out.isEmpty() && dropped) {
          backend.delete(key);
        } else if (dropped || refreshOnRead(ttl)) {
          backend.put(key, kept.toByteArray());
        }
        return out;
      });
    }

    @Override
    public void add(T value) {
      byte[] key = prefix(id);
      written(key, null);
      backend.merge(key, element(value));
    }

    @Override
    public void update(List<T> values) {
      if (values.isEmpty()) {
        clear();
        return;
      }
      BytesOut out = new BytesOut(64);
      for (T v : values) {
        out.writeBytes(element(v));
      }
      writeValue(prefix(id), out.toByteArray(), null);
    }

    @Override
    public void clear() {
      deleteKey(prefix(id), null);
    }
  }

  private final class MapImpl<K, V> implements MapState<K, V> {
    private final int id;
    private final Serde<K> keySerde;
    private final Serde<V> valueSerde;
    private final StateTtlConfig ttl;

    MapImpl(int id, Serde<K> keySerde, Serde<V> valueSerde, StateTtlConfig ttl) {
      this.id = id;
      this.keySerde = keySerde;
      this.valueSerde = valueSerde;
      this.ttl = ttl;
    }

    @Override
    public StateFuture<V> get(K key) {
      byte[] full = StateKeys.withUserKey(prefix(id), keySerde.toBytes(key));
      WriteBack refresh = refreshOnRead(ttl) ? new WriteBack(full) : null;
      return future(backend.get(full)).thenApply(stored -> {
        if (refresh != null) {
          refresh.end();
        }
        byte[] payload = decode(stored, ttl);
        if (payload != null && refresh != null && refresh.safe(full)) {
          backend.put(full, encode(payload, ttl));
        }
        return payload == null ? null : valueSerde.fromBytes(payload);
      });
    }

    @Override
    public void put(K key, V value) {
      byte[] p = prefix(id);
      writeValue(StateKeys.withUserKey(p, keySerde.toBytes(key)),
          encode(valueSerde.toBytes(value), ttl), p);
    }

    @Override
    public void remove(K key) {
      byte[] p = prefix(id);
      deleteKey(StateKeys.withUserKey(p, keySerde.toBytes(key)), p);
    }

    @Override
    public StateFuture<Boolean> contains(K key) {
      return get(key).thenApply(v -> v != null);
    }

    @Override
    public StateFuture<List<Map.Entry<K, V>>> entries() {
      byte[] p = prefix(id);
      return future(backend.scanPrefix(p, SCAN_LIMIT)).thenApply(found -> {
        List<Map.Entry<K, V>> out = new ArrayList<>(found.size());
        for (KeyValue kv : found) {
          byte[] payload = decode(kv.value(), ttl);
          if (payload == null) {
            continue;
          }
          K k = keySerde.fromBytes(Arrays.copyOfRange(kv.key(), p.length, kv.key().length));
          out.add(new AbstractMap.SimpleImmutableEntry<>(k, valueSerde.fromBytes(payload)));
        }
        return out;
      });
    }

    @Override
    public StateFuture<Boolean> isEmpty() {
      return entries().thenApply(List::isEmpty);
    }

    @Override
    public StateFuture<Void> clear() {
      byte[] p = prefix(id);
      WriteBack deletes = new WriteBack(p);
      return future(backend.scanPrefix(p, SCAN_LIMIT)).thenAccept(found -> {
        deletes.end();
        for (KeyValue kv : found) {
          if (deletes.safe(kv.key())) {
            deleteKey(kv.key(), p);
          }
        }
      });
    }
  }

  private <T> ReducingState<T> reducing(int id, StateDescriptor.Reducing<T> d,
      StateTtlConfig ttl) {
    ValueImpl<T> value = new ValueImpl<>(id, d.serde, ttl);
    return new ReducingState<>() {
      @Override
      public StateFuture<T> get() {
        return inOrder(prefix(id), value::value);
      }

      @Override
      public StateFuture<Void> add(T in) {
        return inOrder(prefix(id), () -> value.fold(old -> {
          try {
            return old == null ? in : d.reduce.reduce(old, in);
          } catch (Exception e) {
            throw new IllegalStateException("reduce function of state " + d.name() + " failed",
                e);
          }
        }));
      }

      @Override
      public void clear() {
        value.clear();
      }
    };
  }

  private <IN, ACC, OUT> AggregatingState<IN, OUT> aggregating(int id,
      StateDescriptor.Aggregating<IN, ACC, OUT> d, StateTtlConfig ttl) {
    ValueImpl<ACC> acc = new ValueImpl<>(id, d.accumulatorSerde, ttl);
    return new AggregatingState<>() {
      @Override
      public StateFuture<OUT> get() {
        return inOrder(prefix(id), acc::value)
            .thenApply(a -> a == null ? null : d.aggregator.getResult(a));
      }

      @Override
      public StateFuture<Void> add(IN in) {
        return inOrder(prefix(id), () -> acc.fold(a -> d.aggregator.add(in,
            a == null ? d.aggregator.createAccumulator() : a)));
      }

      @Override
      public void clear() {
        acc.clear();
      }
    };
  }
}
