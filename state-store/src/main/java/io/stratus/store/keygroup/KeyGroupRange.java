package io.stratus.store.keygroup;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A contiguous, inclusive range of key groups {@code [start, end]}, as Flink's
 * {@code KeyGroupRange}; {@code end < start} is the empty range. Because every state key starts
 * with its key group as two big-endian bytes, a key-group range is also a contiguous key range:
 * {@link #firstKey()} (inclusive) to {@link #endKeyExclusive()}.
 */
public record KeyGroupRange(int start, int end) {

  /** Key groups are two bytes on the wire and Flink caps max parallelism at 2^15. */
  public static final int MAX_KEY_GROUPS = 1 << 15;

  public static final KeyGroupRange EMPTY = new KeyGroupRange(0, -1);

  @JsonCreator
  public KeyGroupRange(@JsonProperty("start") int start, @JsonProperty("end") int end) {
    if (end < start) {
      start = 0;
      end = -1;
    } else if (start < 0 || end >= MAX_KEY_GROUPS) {
      throw new IllegalArgumentException("key-group range [" + start + ", " + end
          + "] must lie within [0, " + (MAX_KEY_GROUPS - 1) + "]");
    }
    this.start = start;
    this.end = end;
  }

  /** {@code [start, end]}, inclusive. */
  public static KeyGroupRange of(int start, int end) {
    return new KeyGroupRange(start, end);
  }

  /** All key groups of an operator with {@code maxParallelism}. */
  public static KeyGroupRange all(int maxParallelism) {
    return new KeyGroupRange(0, maxParallelism - 1);
  }

  /**
   * The range owned by subtask {@code index} of {@code parallelism}: Flink's formula, so that key
   * group {@code g} belongs to subtask {@code g * parallelism / maxParallelism}.
   */
  public static KeyGroupRange forSubtask(int maxParallelism, int parallelism, int index) {
    KeyGroups.checkParallelism(maxParallelism, parallelism);
    if (index < 0 || index >= parallelism) {
      throw new IllegalArgumentException(
          "subtask index " + index + " outside [0, " + parallelism + ")");
    }
    int start = (index * maxParallelism + parallelism - 1) / parallelism;
    int end = ((index + 1) * maxParallelism - 1) / parallelism;
    return new KeyGroupRange(start, end);
  }

  @JsonIgnore
  public boolean isEmpty() {
    return end < start;
  }

  /** Number of key groups. */
  public int size() {
    return isEmpty() ? 0 : end - start + 1;
  }

  public boolean contains(int keyGroup) {
    return keyGroup >= start && keyGroup <= end;
  }

  public boolean contains(KeyGroupRange other) {
    return other.isEmpty() || (!isEmpty() && other.start >= start && other.end <= end);
  }

  public KeyGroupRange intersect(KeyGroupRange other) {
    return new KeyGroupRange(Math.max(start, other.start), Math.min(end, other.end));
  }

  public boolean overlaps(KeyGroupRange other) {
    return !intersect(other).isEmpty();
  }

  /** The smallest key of the range: its first key group's two bytes. */
  public byte[] firstKey() {
    return KeyGroups.prefix(start);
  }

  /** The first key after the range, or {@code null} when the range ends at the last key group. */
  public byte[] endKeyExclusive() {
    return end + 1 >= MAX_KEY_GROUPS ? null : KeyGroups.prefix(end + 1);
  }

  /** Whether {@code key}'s key group (its first two bytes) lies in the range. */
  public boolean containsKey(byte[] key) {
    return contains(KeyGroups.keyGroupOfStateKey(key));
  }

  @Override
  public String toString() {
    return isEmpty() ? "[]" : "[" + start + ", " + end + "]";
  }
}
