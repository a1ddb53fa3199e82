package io.stratus.store.sst;

/**
 * What an entry of the store says about its key. A read combines the newest entries of a key
 * down to the first {@link #PUT} or {@link #DELETE}: a value is that base followed by the
 * {@link #MERGE} operands, oldest first (merge is byte concatenation, which is what list appends
 * need when each element is length-prefixed).
 */
public enum EntryKind {
  PUT((byte) 1),
  DELETE((byte) 2),
  MERGE((byte) 3);

  private final byte code;

  EntryKind(byte code) {
    this.code = code;
  }

  public byte code() {
    return code;
  }

  /** The kind of a stored code, or {@code null} if the code is unknown (a corrupt entry). */
  public static EntryKind ofCode(byte code) {
    return switch (code) {
      case 1 -> PUT;
      case 2 -> DELETE;
      case 3 -> MERGE;
      default -> null;
    };
  }
}
