package io.stratus.store.lsm;

import io.stratus.store.sst.EntryKind;
import io.stratus.store.sst.SstEntry;
import java.util.ArrayList;
import java.util.List;

/**
 * Combines the entries of one key, newest first, into what the key holds: a PUT or DELETE ends
 * the search; MERGE operands pile up and are appended to the base, oldest first.
 */
final class EntryCombiner {

  private final List<byte[]> operands = new ArrayList<>(2);
  private EntryKind base;
  private byte[] baseValue;

  void reset() {
    operands.clear();
    base = null;
    baseValue = null;
  }

  /** Adds the next older entry; returns {@code true} once the value is determined. */
  boolean add(EntryKind kind, byte[] value) {
    if (base != null) {
      return true;
    }
    if (kind == EntryKind.MERGE) {
      operands.add(value);
      return false;
    }
    base = kind;
    baseValue = value;
    return true;
  }

  boolean resolved() {
    return base != null;
  }

  boolean isEmpty() {
    return base == null && operands.isEmpty();
  }

  /** The value a read returns: {@code null} for absent or deleted. */
  byte[] value() {
    if (base == EntryKind.PUT) {
      return concat(baseValue);
    }
    return operands.isEmpty() ? null : concat(null);
  }

  /**
   * The single entry that replaces the combined ones in a sorted run. A value with no base below
   * stays a MERGE unless {@code bottommost} (nothing older exists), where it becomes a PUT;
   * tombstones are dropped at the bottom ({@code null}).
   */
  SstEntry toEntry(byte[] key, boolean bottommost) {
    if (base == EntryKind.PUT) {
      return new SstEntry(key, EntryKind.PUT, concat(baseValue));
    }
    if (base == EntryKind.DELETE) {
      if (!operands.isEmpty()) {
        return new SstEntry(key, EntryKind.PUT, concat(null));
      }
      return bottommost ? null : new SstEntry(key, EntryKind.DELETE, new byte[0]);
    }
    if (operands.isEmpty()) {
      return null;
    }
    return new SstEntry(key, bottommost ? EntryKind.PUT : EntryKind.MERGE, concat(null));
  }

  private byte[] concat(byte[] first) {
    if (operands.isEmpty()) {
      return first == null ? new byte[0] : first;
    }
    int length = first == null ? 0 : first.length;
    for (byte[] op : operands) {
      length += op.length;
    }
    byte[] out = new byte[length];
    int at = 0;
    if (first != null) {
      System.arraycopy(first, 0, out, 0, first.length);
      at = first.length;
    }
    for (int i = operands.size() - 1; i >= 0; i--) {
      byte[] op = operands.get(i);
      System.arraycopy(op, 0, out, at, op.length);
      at += op.length;
    }
    return out;
  }
}
