package io.stratus.runtime.graph;

import io.stratus.runtime.sink.Sink;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A job as a dataflow graph: operators ({@link Transformation}s) and the edges between them
 * ({@link StreamEdge}s, each with its partitioning and the records' serde). Any number of
 * sources; a node may feed several others (each sees every record) and take several inputs (a
 * union); keyed operators take only {@code keyBy} edges. Checked at construction, with messages
 * that name the step: ids, a cycle, a source with inputs, an operator without input, an output
 * nobody consumes, a keyed operator without {@code keyBy} (and a {@code keyBy} into anything
 * else), a duplicate operator uid, source name or sink name.
 *
 * @param name  the job's name
 * @param nodes the operators, in the order the job added them (which is a topological order)
 * @param edges the edges
 */
public record JobGraph(String name, List<Transformation> nodes, List<StreamEdge> edges) {

  /** Committables of a sink carry this prefix, the sink's name and {@code |}. */
  public static final String SINK = "sink:";
  /** Side-output committables carry this prefix, the operator uid, {@code /}, the tag id and {@code |}. */
  public static final String SIDE_OUTPUT = "side-output:";

  public JobGraph {
    nodes = List.copyOf(nodes);
    edges = List.copyOf(edges);
    Map<Integer, Transformation> byId = new HashMap<>();
    for (Transformation t : nodes) {
      if (byId.put(t.id(), t) != null) {
        throw new IllegalArgumentException("job '" + name + "' has two nodes with id " + t.id());
      }
    }
    Map<Integer, List<StreamEdge>> in = new HashMap<>();
    Map<Integer, List<StreamEdge>> out = new HashMap<>();
    for (StreamEdge e : edges) {
      if (!byId.containsKey(e.from()) || !byId.containsKey(e.to())) {
        throw new IllegalArgumentException("job '" + name + "' has an edge " + e.from() + " -> "
            + e.to() + " to a node it does not have");
      }
      in.computeIfAbsent(e.to(), k -> new ArrayList<>()).add(e);
      out.computeIfAbsent(e.from(), k -> new ArrayList<>()).add(e);
    }
    if (nodes.stream().noneMatch(t -> t instanceof Transformation.SourceNode)) {
      throw new IllegalArgumentException("job '" + name + "' has no source");
    }
    Set<String> uids = new HashSet<>();
    Set<String> sourceNames = new HashSet<>();
    Set<String> sinkNames = new HashSet<>();
    for (Transformation t : nodes) {
      List<StreamEdge> inputs = in.getOrDefault(t.id(), List.of());
      List<StreamEdge> outputs = out.getOrDefault(t.id(), List.of());
      String step = step(name, t);
      if (t instanceof Transformation.SourceNode s) {
        if (!inputs.isEmpty()) {
          throw new IllegalArgumentException(step + ": a source takes no input");
        }
        if (!sourceNames.add(s.name())) {
          throw new IllegalArgumentException(step + ": another source has the name '" + s.name()
              + "'; sources need distinct names (their offsets are checkpointed by name)");
        }
      } else if (inputs.isEmpty()) {
        throw new IllegalArgumentException(step + " has no input");
      }
      boolean keyed = t instanceof Transformation.KeyedProcessNode;
      for (StreamEdge e : inputs) {
        boolean hash = e.partitioning() instanceof Partitioning.Hash;
        if (keyed && !hash) {
          throw new IllegalArgumentException(step + ": a keyed operation needs keyBy before it, "
              + "but its input from '" + byId.get(e.from()).name() + "' is "
              + e.partitioning().describe());
        }
        if (!keyed && hash) {
          throw new IllegalArgumentException(step + ": keyBy must be followed by a keyed "
              + "operation (process, reduce, aggregate, window), not " + t.kind());
        }
      }
      if (t instanceof Transformation.KeyedProcessNode k && !uids.add(k.uid())) {
        throw new IllegalArgumentException(step + ": another keyed operator has the uid '"
            + k.uid() + "'; uids name state and must be distinct");
      }
      if (t instanceof Transformation.SinkNode s) {
        if (!outputs.isEmpty()) {
          throw new IllegalArgumentException(step + ": a sink has no output");
        }
        if (!sinkNames.add(s.name())) {
          throw new IllegalArgumentException(step + ": another sink has the name '" + s.name()
              + "'; sinks need distinct names (their output is committed by name)");
        }
      } else if (outputs.isEmpty() && !(t instanceof Transformation.KeyedProcessNode k
          && !k.sideOutputs().isEmpty())) {
        throw new IllegalArgumentException(step + ": its output goes nowhere; end it with "
            + "sinkTo");
      }
    }
    checkAcyclic(name, nodes, out, byId);
  }

  /** How messages name a node: {@code in job 'j', step 'map' (#3)}. */
  static String step(String job, Transformation t) {
    return "in job '" + job + "', step '" + t.name() + "' (#" + t.id() + ")";
  }

  private static void checkAcyclic(String name, List<Transformation> nodes,
      Map<Integer, List<StreamEdge>> out, Map<Integer, Transformation> byId) {
    Map<Integer, Integer> indegree = new HashMap<>();
    for (Transformation t : nodes) {
      indegree.putIfAbsent(t.id(), 0);
      for (StreamEdge e : out.getOrDefault(t.id(), List.of())) {
        indegree.merge(e.to(), 1, Integer::sum);
      }
    }
    Deque<Integer> ready = new ArrayDeque<>();
    indegree.forEach((id, d) -> {
      if (d == 0) {
        ready.add(id);
      }
    });
    int visited = 0;
    while (!ready.isEmpty()) {
      int id = ready.poll();
      visited++;
      for (StreamEdge e : out.getOrDefault(id, List.of())) {
        if (indegree.merge(e.to(), -1, Integer::sum) == 0) {
          ready.add(e.to());
        }
      }
    }
    if (visited < nodes.size()) {
      List<String> inCycle = new ArrayList<>();
      indegree.forEach((id, d) -> {
        if (d > 0) {
          inCycle.add("'" + byId.get(id).name() + "' (#" + id + ")");
        }
      });
      throw new IllegalArgumentException("job '" + name + "' has a cycle through the steps "
          + inCycle);
    }
  }

  /** The node with {@code id}. */
  public Transformation node(int id) {
    for (Transformation t : nodes) {
      if (t.id() == id) {
        return t;
      }
    }
    throw new IllegalArgumentException("job '" + name + "' has no node " + id);
  }

  /** The edges into {@code id}, in the order they were added. */
  public List<StreamEdge> inputs(int id) {
    return edges.stream().filter(e -> e.to() == id).toList();
  }

  /** The edges out of {@code id}, in the order they were added. */
  public List<StreamEdge> outputs(int id) {
    return edges.stream().filter(e -> e.from() == id).toList();
  }

  /** The keyed operators, in the order the job added them. */
  public List<Transformation.KeyedProcessNode> keyedOperators() {
    return nodesOf(Transformation.KeyedProcessNode.class);
  }

  /** The sources, in the order the job added them. */
  public List<Transformation.SourceNode> sources() {
    return nodesOf(Transformation.SourceNode.class);
  }

  private <N extends Transformation> List<N> nodesOf(Class<N> kind) {
    return nodes.stream().filter(kind::isInstance).map(kind::cast).toList();
  }

  /**
   * The sources whose parallelism a rescale may change
   * ({@link io.stratus.runtime.source.Source#rescalable()}).
   */
  public List<Transformation.SourceNode> rescalableSources() {
    return sources().stream().filter(s -> s.source().rescalable()).toList();
  }

  /**
   * Commits what the sinks staged, each committable to its sink: {@link #SINK} and the sink's
   * name, or {@link #SIDE_OUTPUT} with the operator uid and tag. A committable without either
   * (written by a job of one sink, before sinks had names) goes to the job's only sink.
   */
  public CompletableFuture<Void> commit(List<String> committables) {
    List<CompletableFuture<Void>> all = new ArrayList<>();
    bySink(committables).forEach((sink, list) -> all.add(sink.commit(list)));
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
  }

  /**
   * Has every sink, side outputs' included, delete output staged before {@code before} except
   * {@code keep} ({@link Sink#abortStaged}); once the job has ended.
   *
   * @return how many staged objects were deleted
   */
  public CompletableFuture<Integer> abortStaged(Instant before, List<String> keep) {
    Map<Sink<?>, List<String>> kept = bySink(keep);
    Set<Sink<?>> sinks = new LinkedHashSet<>();
    for (Transformation t : nodes) {
      if (t instanceof Transformation.SinkNode s) {
        sinks.add(s.sink());
      }
    }
    keyedOperators().forEach(k -> sinks.addAll(k.sideOutputs().values()));
    sources().forEach(s -> sinks.addAll(s.sideOutputs().values()));
    List<CompletableFuture<Integer>> all = new ArrayList<>();
    for (Sink<?> sink : sinks) {
      all.add(sink.abortStaged(before, Set.copyOf(kept.getOrDefault(sink, List.of()))));
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
        .thenApply(v -> all.stream().mapToInt(CompletableFuture::join).sum());
  }

  /** Committables by the sink that staged them, each without its routing prefix. */
  private Map<Sink<?>, List<String>> bySink(List<String> committables) {
    Map<Sink<?>, List<String>> bySink = new LinkedHashMap<>();
    for (String c : committables) {
      Sink<?> sink;
      String own;
      int bar = c.indexOf('|');
      if (c.startsWith(SINK) && bar > 0) {
        sink = sinkNamed(c.substring(SINK.length(), bar));
        own = c.substring(bar + 1);
      } else if (c.startsWith(SIDE_OUTPUT) && bar > 0) {
        sink = sideOutputSink(c.substring(SIDE_OUTPUT.length(), bar));
        own = c.substring(bar + 1);
      } else {
        sink = onlySink(c);
        own = c;
      }
      bySink.computeIfAbsent(sink, k -> new ArrayList<>()).add(own);
    }
    return bySink;
  }

  private Sink<?> sinkNamed(String sinkName) {
    for (Transformation t : nodes) {
      if (t instanceof Transformation.SinkNode s && s.name().equals(sinkName)) {
        return s.sink();
      }
    }
    throw new IllegalStateException("job '" + name + "' has no sink named '" + sinkName
        + "' to commit its output to");
  }

  private Sink<?> onlySink(String committable) {
    List<Sink<?>> sinks = new ArrayList<>();
    for (Transformation t : nodes) {
      if (t instanceof Transformation.SinkNode s) {
        sinks.add(s.sink());
      }
    }
    if (sinks.size() != 1) {
      throw new IllegalStateException("job '" + name + "' cannot tell which of its "
          + sinks.size() + " sinks staged '" + committable + "'");
    }
    return sinks.get(0);
  }

  /** {@code <uid>/<tag>}, or a bare tag from before side outputs were named by operator. */
  private Sink<?> sideOutputSink(String where) {
    int slash = where.indexOf('/');
    String uid = slash < 0 ? null : where.substring(0, slash);
    String tag = slash < 0 ? where : where.substring(slash + 1);
    for (Transformation.KeyedProcessNode k : keyedOperators()) {
      if ((uid == null || k.uid().equals(uid)) && k.sideOutputs().containsKey(tag)) {
        return k.sideOutputs().get(tag);
      }
    }
    for (Transformation.SourceNode s : sources()) {
      if (uid != null && s.name().equals(uid) && s.sideOutputs().containsKey(tag)) {
        return s.sideOutputs().get(tag);
      }
    }
    throw new IllegalStateException("job '" + name + "' has no sink for side output '" + where
        + "'");
  }
}
