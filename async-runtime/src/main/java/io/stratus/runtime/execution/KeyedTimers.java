package io.stratus.runtime.execution;

import io.stratus.runtime.state.KeyedStateBackend;
import io.stratus.runtime.state.StateHandle;
import io.stratus.runtime.state.StateKeys;
import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.lsm.KeyValue;
import io.stratus.runtime.serde.BytesOut;
import io.stratus.runtime.serde.BytesIn;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * The event-time and processing-time timers of one keyed task. Each timer lives in the keyed
 * backend (so it is in every checkpoint and moves with its key group on rescale) and in a sorted
 * in-memory set that decides what fires next. Task-thread confined.
 *
 * <p>Timer key: {@code keyGroup | timer state id | timestamp (8 bytes, sign flipped) | len key |
 * namespace}: one timer per (timestamp, key, namespace), as in Flink.
 *
 * <p>A restore scans only the key groups that have had timers: scanning every key group's timer
 * prefix would read a data block from the object store per key group, whether or not it has
 * timers. Which ones they are, each snapshot handle says ({@link StateHandle#timerKeyGroups},
 * from {@link #keyGroupsWithTimers}), so opening a restored task reads nothing but the timers.
 * A key group's first timer also writes a marker key ({@link StateKeys#TIMER_GROUPS}), for
 * handles written before they said: the restore then looks each key group's marker up (point
 * reads, which Bloom filters answer without data blocks, but which need the index and filter
 * of every file first: seconds on a cold worker at gigabytes of state).
 */
public final class KeyedTimers {

  /**
   * A timer.
   *
   * @param timestamp when it fires
   * @param keyBytes  the key, serialized
   * @param keyGroup  the key's group
   * @param namespace the namespace (empty outside windows)
   */
  public record Timer(long timestamp, byte[] keyBytes, int keyGroup, byte[] namespace)
      implements Comparable<Timer> {
    @Override
    public int compareTo(Timer o) {
      int c = Long.compare(timestamp, o.timestamp);
      if (c != 0) {
        return c;
      }
      c = Arrays.compareUnsigned(keyBytes, o.keyBytes);
      return c != 0 ? c : Arrays.compareUnsigned(namespace, o.namespace);
    }
  }

  private final KeyedStateBackend backend;
  private final TreeSet<Timer> eventTime = new TreeSet<>();
  private final TreeSet<Timer> processingTime = new TreeSet<>();
  private final Set<Integer> groupsWithTimers = new HashSet<>();

  public KeyedTimers(KeyedStateBackend backend) {
    this.backend = backend;
  }

  /**
   * Loads the timers of the backend's key groups after it was restored from {@code handles}
   * (none: a fresh backend, which has no timers).
   */
  public CompletableFuture<Void> restore(List<StateHandle> handles) {
    KeyGroupRange range = backend.keyGroups();
    Set<Integer> known = listedKeyGroups(handles, range);
    if (known == null) {
      return restoreByMarkers(range);
    }
    List<CompletableFuture<Void>> scans = new ArrayList<>();
    for (int group : known) {
      groupsWithTimers.add(group);
      scans.add(loadGroup(group));
    }
    return CompletableFuture.allOf(scans.toArray(CompletableFuture[]::new));
  }

  /**
   * The key groups of {@code range} that {@code handles} say hold timers; null if a handle that
   * covers part of {@code range} does not say.
   */
  private static Set<Integer> listedKeyGroups(List<StateHandle> handles,
      KeyGroupRange range) {
    Set<Integer> groups = new TreeSet<>();
    for (StateHandle h : handles) {
      KeyGroupRange covered = h.keyGroups().intersect(range);
      if (covered.isEmpty()) {
        continue;
      }
      if (h.timerKeyGroups() == null) {
        return null;
      }
      for (KeyGroupRange r : h.timerKeyGroups()) {
        KeyGroupRange take = r.intersect(covered);
        for (int g = take.start(); g <= take.end(); g++) {
          groups.add(g);
        }
      }
    }
    return groups;
  }

  private CompletableFuture<Void> restoreByMarkers(KeyGroupRange range) {
    List<CompletableFuture<Void>> scans = new ArrayList<>();
    for (int g = range.start(); g <= range.end(); g++) {
      int group = g;
      scans.add(backend.get(marker(group)).thenCompose(found -> {
        if (found == null) {
          return CompletableFuture.completedFuture(null);
        }
        synchronized (groupsWithTimers) {
          groupsWithTimers.add(group);
        }
        return loadGroup(group);
      }));
    }
    return CompletableFuture.allOf(scans.toArray(CompletableFuture[]::new));
  }

  private CompletableFuture<Void> loadGroup(int group) {
    return CompletableFuture.allOf(load(group, StateKeys.EVENT_TIMERS, eventTime),
        load(group, StateKeys.PROCESSING_TIMERS, processingTime));
  }

  /**
   * The key groups that hold timers or held some (their markers are written), as ranges: what
   * a snapshot of the backend taken now records in its handle.
   */
  public List<KeyGroupRange> keyGroupsWithTimers() {
    List<Integer> sorted;
    synchronized (groupsWithTimers) {
      sorted = new ArrayList<>(groupsWithTimers);
    }
    sorted.sort(null);
    List<KeyGroupRange> ranges = new ArrayList<>();
    int i = 0;
    while (i < sorted.size()) {
      int start = sorted.get(i);
      int end = start;
      while (i + 1 < sorted.size() && sorted.get(i + 1) == end + 1) {
        end = sorted.get(++i);
      }
      ranges.add(KeyGroupRange.of(start, end));
      i++;
    }
    return ranges;
  }

  private CompletableFuture<Void> load(int keyGroup, int stateId, TreeSet<Timer> into) {
    byte[] prefix = StateKeys.statePrefix(keyGroup, stateId);
    return backend.scanPrefix(prefix, Integer.MAX_VALUE).thenAccept(found -> {
      List<Timer> timers = new ArrayList<>(found.size());
      for (KeyValue kv : found) {
        BytesIn r = new BytesIn(kv.key(), prefix.length, kv.key().length);
        long ts = r.readLong() ^ Long.MIN_VALUE;
        byte[] key = r.readLengthPrefixed();
        byte[] ns = r.readBytes(kv.key().length - r.position());
        timers.add(new Timer(ts, key, keyGroup, ns));
      }
      synchronized (into) {
        into.addAll(timers);
      }
    });
  }

  public void registerEventTime(Timer timer) {
    register(eventTime, StateKeys.EVENT_TIMERS, timer);
  }

  public void registerProcessingTime(Timer timer) {
    register(processingTime, StateKeys.PROCESSING_TIMERS, timer);
  }

  public void deleteEventTime(Timer timer) {
    delete(eventTime, StateKeys.EVENT_TIMERS, timer);
  }

  public void deleteProcessingTime(Timer timer) {
    delete(processingTime, StateKeys.PROCESSING_TIMERS, timer);
  }

  /** Removes and returns the event-time timers due at {@code watermark}, in timestamp order. */
  public List<Timer> dueEventTime(long watermark) {
    return due(eventTime, StateKeys.EVENT_TIMERS, watermark);
  }

  public List<Timer> dueProcessingTime(long now) {
    return due(processingTime, StateKeys.PROCESSING_TIMERS, now);
  }

  /** The earliest processing-time timer, or {@link Long#MAX_VALUE}. */
  public long nextProcessingTime() {
    return processingTime.isEmpty() ? Long.MAX_VALUE : processingTime.first().timestamp();
  }

  public int eventTimeCount() {
    return eventTime.size();
  }

  public int processingTimeCount() {
    return processingTime.size();
  }

  private void register(TreeSet<Timer> set, int stateId, Timer timer) {
    if (set.add(timer)) {
      backend.put(key(stateId, timer), new byte[0]);
      if (groupsWithTimers.add(timer.keyGroup())) {
        backend.put(marker(timer.keyGroup()), new byte[0]);
      }
    }
  }

  private void delete(TreeSet<Timer> set, int stateId, Timer timer) {
    if (set.remove(timer)) {
      backend.delete(key(stateId, timer));
    }
  }

  private List<Timer> due(TreeSet<Timer> set, int stateId, long upTo) {
    List<Timer> out = new ArrayList<>();
    while (!set.isEmpty() && set.first().timestamp() <= upTo) {
      Timer t = set.pollFirst();
      backend.delete(key(stateId, t));
      out.add(t);
    }
    return out;
  }

  private static byte[] marker(int keyGroup) {
    return StateKeys.statePrefix(keyGroup, StateKeys.TIMER_GROUPS);
  }

  private static byte[] key(int stateId, Timer t) {
    byte[] prefix = StateKeys.statePrefix(t.keyGroup(), stateId);
    BytesOut out = new BytesOut(prefix.length + 12 + t.keyBytes().length
        + t.namespace().length);
    out.writeBytes(prefix).writeLong(t.timestamp() ^ Long.MIN_VALUE)
        .writeLengthPrefixed(t.keyBytes()).writeBytes(t.namespace());
    return out.toByteArray();
  }
}
