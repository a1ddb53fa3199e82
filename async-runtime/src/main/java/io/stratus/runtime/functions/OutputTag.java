package io.stratus.runtime.functions;

import java.io.Serializable;
import java.util.Objects;

/**
 * Names a side output of a keyed operator, as Flink's {@code OutputTag}: the function emits to
 * it with {@link KeyedProcessFunction.Context#output}, and the job sends it to a sink with
 * {@code process(...).sideOutputTo(tag, sink)}. Records emitted to a tag no sink takes are
 * dropped, as in Flink.
 *
 * @param <T> the records of the side output
 */
public final class OutputTag<T> implements Serializable {

  private final String id;

  public OutputTag(String id) {
    if (id == null || id.isBlank() || id.contains("|")) {
      throw new IllegalArgumentException("an output tag needs an id without '|', was '" + id
          + "'");
    }
    this.id = id;
  }

  public String id() {
    return id;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof OutputTag<?> other && other.id.equals(id);
  }

  @Override
  public int hashCode() {
    return Objects.hash(id);
  }

  @Override
  public String toString() {
    return "OutputTag(" + id + ")";
  }
}
