package io.stratus.runtime.graph;

import io.stratus.runtime.serde.Serde;
import java.util.Objects;

/**
 * An edge of a job's graph: records of node {@code from} go to node {@code to}.
 *
 * @param from         the producing node's id
 * @param to           the consuming node's id
 * @param partitioning how the producer's tasks hand records to the consumer's
 * @param serde        the records' serde, for an edge that is not chained (records then cross
 *                     between tasks as bytes); null where the records' type is unknown, which
 *                     is an error on such an edge
 */
public record StreamEdge(int from, int to, Partitioning partitioning, Serde<?> serde) {

  public StreamEdge {
    Objects.requireNonNull(partitioning, "partitioning");
  }
}
