package io.stratus.runtime.graph;

import io.stratus.runtime.sink.Sink;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

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

  /** Side-output committables carry this prefix, the tag id and {@code |} before their own. */
  public static final String SIDE_OUTPUT = "side-output:";

  /** The main sink (the pipeline's last step). */
  public Sink<?> sink() {
    return ((Transformation.SinkNode) pipeline.get(pipeline.size() - 1)).sink();
  }

  /**
   * Commits what the sinks staged: side-output committables ({@link #SIDE_OUTPUT} prefix) go
   * to their side output's sink, the rest to the main sink.
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  public CompletableFuture<Void> commit(List<String> committables) {
    Map<Sink, List<String>> bySink = new LinkedHashMap<>();
    for (String c : committables) {
      Sink sink = sink();
      String own = c;
      if (c.startsWith(SIDE_OUTPUT)) {
        int bar = c.indexOf('|');
        String tag = c.substring(SIDE_OUTPUT.length(), bar);
        sink = sideOutputSink(tag);
        own = c.substring(bar + 1);
      }
      bySink.computeIfAbsent(sink, k -> new ArrayList<>()).add(own);
    }
    List<CompletableFuture<Void>> all = new ArrayList<>();
    bySink.forEach((sink, list) -> all.add(sink.commit(list)));
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
  }

  private Sink<?> sideOutputSink(String tag) {
    for (Transformation t : pipeline) {
      if (t instanceof Transformation.KeyedProcessNode k && k.sideOutputs().containsKey(tag)) {
        return k.sideOutputs().get(tag);
      }
    }
    throw new IllegalStateException("job '" + name + "' has no sink for side output '" + tag
        + "'");
  }
}
