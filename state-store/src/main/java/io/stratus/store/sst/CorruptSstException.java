package io.stratus.store.sst;

/**
 * An SST file's bytes are not what the format (or the version that points at the file) promises:
 * a checksum mismatch, a bad footer, a malformed block. The message names the file and the byte
 * offset. The store never answers from such data.
 */
public class CorruptSstException extends RuntimeException {

  private final String file;
  private final long offset;

  public CorruptSstException(String file, long offset, String problem) {
    super("corrupt SST " + file + " at offset " + offset + ": " + problem);
    this.file = file;
    this.offset = offset;
  }

  public CorruptSstException(String file, long offset, String problem, Throwable cause) {
    super("corrupt SST " + file + " at offset " + offset + ": " + problem, cause);
    this.file = file;
    this.offset = offset;
  }

  public String file() {
    return file;
  }

  public long offset() {
    return offset;
  }
}
