package io.stratus.runtime.graph;

import java.util.List;

/**
 * A job as a linear pipeline: a source, stateless steps, and keyed operators each after a
 * {@code keyBy}, ending in a sink. Checked at construction with messages naming the step.
 *
 * @param name     the job's name
 * @param pipeline the steps in order
 */
public record JobGraph(String name, List<Transformation> pipeline) {

  public JobGraph {
    pipeline = List.copyOf(pipeline);
    if (pipeline.isEmpty() || !(pipeline.get(0) instanceof Transformation.SourceNode)) {
      throw new IllegalArgumentException("job '" + name + "' must start with a source");
    }
    if (!(pipeline.get(pipeline.size() - 1) instanceof Transformation.SinkNode)) {
      throw new IllegalArgumentException("job '" + name + "' must end with a sink (sinkTo)");
    }
    for (int i = 1; i < pipeline.size(); i++) {
      Transformation t = pipeline.get(i);
      boolean afterKeyBy = pipeline.get(i - 1) instanceof Transformation.KeyByNode;
      if (afterKeyBy != (t instanceof Transformation.KeyedProcessNode)) {
        throw new IllegalArgumentException("in job '" + name + "', step '" + t.name()
            + "': keyBy must be followed by a keyed operation (process, reduce, aggregate), "
            + "and keyed operations need a keyBy before them");
      }
      if (t instanceof Transformation.SourceNode || (t instanceof Transformation.SinkNode
          && i != pipeline.size() - 1)) {
        throw new IllegalArgumentException("in job '" + name + "', step '" + t.name()
            + "' is out of place: one source first, one sink last");
      }
    }
  }
}
