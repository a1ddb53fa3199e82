package io.stratus.store.sst;

/**
 * Constants of the SST file format; the format itself is described in {@code docs/sst-format.md}.
 *
 * <pre>
 * file:   data block* | filter block | index block | properties block | footer
 * block:  payload | crc32c(payload) (4 bytes)
 * footer: filterOffset (8) filterLength (4) indexOffset (8) indexLength (4)
 *         propertiesOffset (8) propertiesLength (4) formatVersion (4) crc32c (4) magic (8)
 * </pre>
 * All integers are big-endian.
 */
public final class SstFormat {

  /** "STRATSST" in ASCII. */
  public static final long MAGIC = 0x5354524154535354L;
  public static final int FORMAT_VERSION = 1;
  public static final int FOOTER_BYTES = 52;

  private SstFormat() {}
}
