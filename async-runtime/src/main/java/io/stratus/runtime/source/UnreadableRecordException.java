package io.stratus.runtime.source;

/**
 * A reader met a record it cannot read (its serde failed on the bytes). The reader's position
 * is already past the record; the records before it in the batch were returned by the previous
 * {@link SourceReader#poll}. The source task sends it to the source's dead-letter sink and reads
 * on, or fails if the job set none ({@code fromSource(...).deadLettersTo(sink)}).
 */
public final class UnreadableRecordException extends RuntimeException {

  private final String where;
  private final byte[] bytes;
  private final long timestamp;

  /**
   * @param where     the record's place, e.g. {@code payments-3@1200} (partition and offset)
   * @param bytes     the record's bytes as read
   * @param timestamp its timestamp, or {@link Long#MIN_VALUE}
   * @param cause     what the serde threw
   */
  public UnreadableRecordException(String where, byte[] bytes, long timestamp,
      Throwable cause) {
    super("record " + where + " cannot be read: " + cause.getMessage(), cause);
    this.where = where;
    this.bytes = bytes;
    this.timestamp = timestamp;
  }

  public String where() {
    return where;
  }

  public byte[] bytes() {
    return bytes.clone();
  }

  public long timestamp() {
    return timestamp;
  }
}
