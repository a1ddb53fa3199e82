package io.stratus.runtime.source;

import java.util.Map;

/**
 * A {@link SourceReader} of one split whose position is one number: the count of records
 * read, a line number, an index into a collection. Its position is that number under the split
 * name {@value #SPLIT}.
 *
 * @param <T> the records
 */
public interface OffsetReader<T> extends SourceReader<T> {

  /** The split name under which the offset is kept in a checkpoint. */
  String SPLIT = "offset";

  /** The position after the last record returned; {@link #seek(long)} accepts it. */
  long offset();

  /** Continues from {@code offset}, a value {@link #offset()} returned before. */
  void seek(long offset);

  @Override
  default Map<String, Long> position() {
    return Map.of(SPLIT, offset());
  }

  @Override
  default void seek(Map<String, Long> position) {
    Long offset = position.get(SPLIT);
    if (offset == null) {
      throw new IllegalArgumentException("a reader of one split resumes from the position '"
          + SPLIT + "', which " + position.keySet() + " does not hold");
    }
    seek(offset);
  }
}
