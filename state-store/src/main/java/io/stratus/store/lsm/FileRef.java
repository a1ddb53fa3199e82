package io.stratus.store.lsm;

import io.stratus.store.keygroup.KeyGroupRange;
import java.util.Arrays;

/**
 * A file as one level of a version sees it: only the key groups in {@code visible}, hence only
 * the keys in {@code [smallest, limit)}, the file's key range clipped to those key groups. A store
 * restored from several checkpoints holds each source's files clipped to that source's range, so
 * one physical file may appear twice with disjoint views, and clipped ranges never overlap within
 * a level above 0.
 *
 * @param file     the physical file
 * @param visible  key groups visible through this reference
 * @param smallest the first visible key (inclusive)
 * @param limit    the end of the visible keys (exclusive)
 */
record FileRef(SstFile file, KeyGroupRange visible, byte[] smallest, byte[] limit) {

  /** A view of {@code file} restricted to {@code groups}, or {@code null} if nothing is left. */
  static FileRef clip(SstFile file, KeyGroupRange groups) {
    KeyGroupRange visible = file.properties().keyGroups().intersect(groups);
    if (visible.isEmpty()) {
      return null;
    }
    byte[] smallest = max(file.properties().smallest(), visible.firstKey());
    byte[] limit = successor(file.properties().largest());
    byte[] end = visible.endKeyExclusive();
    if (end != null && Arrays.compareUnsigned(end, limit) < 0) {
      limit = end;
    }
    if (Arrays.compareUnsigned(smallest, limit) >= 0) {
      return null;
    }
    return new FileRef(file, visible, smallest, limit);
  }

  /** Whether {@code key} lies in this view (its key group is known to be visible). */
  boolean containsKey(byte[] key) {
    return Arrays.compareUnsigned(key, smallest) >= 0 && Arrays.compareUnsigned(key, limit) < 0;
  }

  /** Whether this view meets {@code [from, to)}; {@code null} bounds are open. */
  boolean overlaps(byte[] from, byte[] to) {
    return (to == null || Arrays.compareUnsigned(smallest, to) < 0)
        && (from == null || Arrays.compareUnsigned(from, limit) < 0);
  }

  long size() {
    return file.properties().fileSize();
  }

  static byte[] max(byte[] a, byte[] b) {
    return Arrays.compareUnsigned(a, b) >= 0 ? a : b;
  }

  static byte[] min(byte[] a, byte[] b) {
    return Arrays.compareUnsigned(a, b) <= 0 ? a : b;
  }

  /** The smallest key greater than {@code key}: the key followed by a zero byte. */
  static byte[] successor(byte[] key) {
    return Arrays.copyOf(key, key.length + 1);
  }

  @Override
  public String toString() {
    return file.name() + visible;
  }
}
