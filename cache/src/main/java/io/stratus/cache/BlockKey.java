package io.stratus.cache;

import java.util.Objects;

/**
 * Identifies one block of an immutable file: the file's name, the block's byte offset in it and
 * its length. Files are never rewritten under the same name, so a key always denotes the same
 * bytes and cached copies never go stale; they only become useless when the file is deleted
 * (see {@link HybridBlockCache#invalidate(String)}).
 *
 * @param file   the file name, as the object store knows it
 * @param offset the byte offset of the block in the file, at least 0
 * @param length the block's length in bytes, at least 1
 */
public record BlockKey(String file, long offset, int length) {

  public BlockKey {
    Objects.requireNonNull(file, "file");
    if (offset < 0) {
      throw new IllegalArgumentException("offset must be >= 0, was " + offset + " in " + file);
    }
    if (length <= 0) {
      throw new IllegalArgumentException("length must be > 0, was " + length + " in " + file);
    }
  }

  @Override
  public String toString() {
    return file + "@" + offset + "+" + length;
  }
}
