package io.stratus.runtime.execution;

import io.stratus.runtime.RuntimeConfig;
import io.stratus.runtime.graph.JobGraph;
import io.stratus.runtime.graph.Partitioning;
import io.stratus.runtime.graph.StreamEdge;
import io.stratus.runtime.graph.Transformation;
import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.keygroup.KeyGroups;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * How a {@link JobGraph} runs: each operator's parallelism, the chains of operators that run in
 * one task (vertices), the exchanges between them and the channels of each task's inbox.
 *
 * <p><b>Parallelism.</b> A source has its own; a keyed operator the override for its uid, else
 * its own, else the job's; any other operator its own, else its inputs' (when they all agree),
 * else the job's. So stateless steps after a keyed operator follow it when it is rescaled.
 *
 * <p><b>Edges.</b> An edge the job left at {@link Partitioning.Default} is forward where both
 * ends have one parallelism, else rebalance; a forward edge between different parallelism is
 * an error. An edge is <em>chained</em> (the consumer runs in the producer's task and gets
 * references) when it is forward, the consumer has no other input, is neither keyed nor a
 * source, and takes its parallelism from its input (or the job asked for forward). Every other
 * edge is an exchange: records cross as bytes of the edge's serde, which must be known.
 *
 * <p><b>Channels.</b> A task's inbox numbers its input channels edge by edge: a forward
 * exchange brings one channel (task i of the producer to task i of the consumer), any other
 * one channel per producing task. Barriers align and watermarks merge over all channels.
 */
public final class JobTopology {

  /**
   * Operators that run chained in one task per subtask.
   *
   * @param index       its position (sources first in the order the job added them)
   * @param head        the first operator's id
   * @param chain       every operator's id, head first
   * @param name        the operators' names, joined by {@code ->}
   * @param parallelism its tasks
   */
  public record Vertex(int index, int head, List<Integer> chain, String name, int parallelism) {}

  /**
   * An edge between two vertices.
   *
   * @param edge          the graph's edge
   * @param partitioning  its partitioning, resolved (never {@link Partitioning.Default})
   * @param from          the producing vertex
   * @param to            the consuming vertex
   * @param channelOffset where its channels start in the consumer's inbox
   */
  record Exchange(StreamEdge edge, Partitioning partitioning, int from, int to,
      int channelOffset) {

    boolean forward() {
      return partitioning instanceof Partitioning.Forward;
    }
  }

  private final JobGraph graph;
  private final int maxParallelism;
  private final Map<Integer, Integer> parallelism = new HashMap<>();
  /** By edge instance: a union of a stream with itself has two equal edges. */
  private final Map<StreamEdge, Partitioning> resolved = new IdentityHashMap<>();
  private final Map<StreamEdge, Boolean> chained = new IdentityHashMap<>();
  private final Map<Integer, Integer> vertexOf = new HashMap<>();
  private final List<Vertex> vertices = new ArrayList<>();
  private final List<Exchange> exchanges = new ArrayList<>();
  private final int[] channels;

  /**
   * @param overrides parallelism per keyed operator uid or rescalable source name, replacing the
   *                  graph's and the default
   * @throws IllegalArgumentException naming the step: a parallelism out of range, a forward
   *         edge between different parallelism, an exchange whose records have no serde
   */
  public JobTopology(JobGraph graph, RuntimeConfig config, Map<String, Integer> overrides) {
    this.graph = graph;
    this.maxParallelism = config.maxParallelism();
    List<Transformation> order = topologicalOrder(graph);
    for (Transformation t : order) {
      parallelism.put(t.id(), resolveParallelism(t, config, overrides));
    }
    for (Transformation t : order) {
      List<StreamEdge> inputs = graph.inputs(t.id());
      for (StreamEdge e : inputs) {
        int from = parallelism.get(e.from());
        int to = parallelism.get(e.to());
        Partitioning p = e.partitioning();
        if (p instanceof Partitioning.Default) {
          p = from == to ? new Partitioning.Forward() : new Partitioning.Rebalance();
        } else if (p instanceof Partitioning.Forward && from != to) {
          throw new IllegalArgumentException(stepOf(t) + ": forward from '"
              + graph.node(e.from()).name() + "' needs equal parallelism, but they have " + from
              + " and " + to + " tasks");
        }
        resolved.put(e, p);
        chained.put(e, p instanceof Partitioning.Forward && inputs.size() == 1
            && !(t instanceof Transformation.KeyedProcessNode)
            && (t.parallelism() == 0 || e.partitioning() instanceof Partitioning.Forward));
      }
    }
    // Vertices: a node whose input is chained joins its producer's; any other starts one.
    // Sources come first, so that source tasks are vertices 0.. in the job's order.
    List<Transformation> heads = new ArrayList<>();
    for (Transformation t : order) {
      List<StreamEdge> inputs = graph.inputs(t.id());
      if (inputs.size() == 1 && chained.get(inputs.get(0))) {
        vertexOf.put(t.id(), vertexOf.get(inputs.get(0).from()));
      } else {
        vertexOf.put(t.id(), -1 - heads.size());
        heads.add(t);
      }
    }
    List<Transformation> sortedHeads = new ArrayList<>(heads);
    sortedHeads.sort((a, b) -> Boolean.compare(!(a instanceof Transformation.SourceNode),
        !(b instanceof Transformation.SourceNode)));
    Map<Integer, Integer> placeholder = new HashMap<>();
    for (int i = 0; i < heads.size(); i++) {
      placeholder.put(-1 - i, sortedHeads.indexOf(heads.get(i)));
    }
    vertexOf.replaceAll((node, v) -> placeholder.get(v));
    for (int v = 0; v < sortedHeads.size(); v++) {
      Transformation head = sortedHeads.get(v);
      List<Integer> chain = new ArrayList<>();
      List<String> names = new ArrayList<>();
      for (Transformation t : order) {
        if (vertexOf.get(t.id()) == v) {
          chain.add(t.id());
          names.add(t.name());
        }
      }
      vertices.add(new Vertex(v, head.id(), chain, String.join(" -> ", names),
          parallelism.get(head.id())));
    }
    channels = new int[vertices.size()];
    for (Transformation t : order) {
      for (StreamEdge e : graph.inputs(t.id())) {
        if (chained.get(e)) {
          continue;
        }
        if (e.serde() == null) {
          throw new IllegalArgumentException(stepOf(graph.node(e.from())) + " sends its records "
              + "to '" + t.name() + "' (#" + t.id() + ") through a " + resolved.get(e).describe()
              + " exchange, which carries them as bytes, but their serde is unknown (a lambda "
              + "keeps no type arguments): declare it with .returns(serde) on the stream '"
              + graph.node(e.from()).name() + "' emits");
        }
        int to = vertexOf.get(t.id());
        Exchange x = new Exchange(e, resolved.get(e), vertexOf.get(e.from()), to, channels[to]);
        exchanges.add(x);
        channels[to] += x.forward() ? 1 : parallelism.get(e.from());
      }
    }
  }

  private int resolveParallelism(Transformation t, RuntimeConfig config,
      Map<String, Integer> overrides) {
    int p;
    if (t instanceof Transformation.SourceNode s) {
      p = s.source().rescalable() ? overrides.getOrDefault(s.name(), Math.max(1, s.parallelism()))
          : Math.max(1, s.parallelism());
    } else if (t instanceof Transformation.KeyedProcessNode k) {
      p = overrides.getOrDefault(k.uid(), k.parallelism() > 0 ? k.parallelism()
          : config.parallelism());
    } else if (t.parallelism() > 0) {
      p = t.parallelism();
    } else {
      List<Integer> inputs = graph.inputs(t.id()).stream().map(e -> parallelism.get(e.from()))
          .distinct().toList();
      p = inputs.size() == 1 ? inputs.get(0) : config.parallelism();
    }
    try {
      KeyGroups.checkParallelism(maxParallelism, p);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(stepOf(t) + ": " + e.getMessage(), e);
    }
    return p;
  }

  private String stepOf(Transformation t) {
    return "in job '" + graph.name() + "', step '" + t.name() + "' (#" + t.id() + ")";
  }

  /** The nodes with every producer before its consumers (Kahn, stable in the job's order). */
  private static List<Transformation> topologicalOrder(JobGraph graph) {
    Map<Integer, Integer> indegree = new HashMap<>();
    for (Transformation t : graph.nodes()) {
      indegree.put(t.id(), graph.inputs(t.id()).size());
    }
    List<Transformation> order = new ArrayList<>();
    Deque<Transformation> ready = new ArrayDeque<>();
    for (Transformation t : graph.nodes()) {
      if (indegree.get(t.id()) == 0) {
        ready.add(t);
      }
    }
    while (!ready.isEmpty()) {
      Transformation t = ready.poll();
      order.add(t);
      for (StreamEdge e : graph.outputs(t.id())) {
        if (indegree.merge(e.to(), -1, Integer::sum) == 0) {
          ready.add(graph.node(e.to()));
        }
      }
    }
    return order;
  }

  public JobGraph graph() {
    return graph;
  }

  public int maxParallelism() {
    return maxParallelism;
  }

  public List<Vertex> vertices() {
    return vertices;
  }

  public Vertex vertex(int index) {
    return vertices.get(index);
  }

  /** The vertex's first operator. */
  public Transformation head(int vertex) {
    return graph.node(vertices.get(vertex).head());
  }

  /** The keyed operator at the head of {@code vertex}, or null. */
  public Transformation.KeyedProcessNode keyedHead(int vertex) {
    return head(vertex) instanceof Transformation.KeyedProcessNode k ? k : null;
  }

  /** The source at the head of {@code vertex}, or null. */
  public Transformation.SourceNode sourceHead(int vertex) {
    return head(vertex) instanceof Transformation.SourceNode s ? s : null;
  }

  /**
   * The source vertices whose records can reach {@code vertex} (itself, if it is one): its
   * tasks see a checkpoint's barrier only while one of them still runs.
   */
  public Set<Integer> sourcesUpstreamOf(int vertex) {
    Set<Integer> sources = new TreeSet<>();
    Set<Integer> seen = new HashSet<>();
    Deque<Integer> todo = new ArrayDeque<>(List.of(vertex));
    while (!todo.isEmpty()) {
      int v = todo.poll();
      if (!seen.add(v)) {
        continue;
      }
      if (sourceHead(v) != null) {
        sources.add(v);
      }
      inputsOf(v).forEach(x -> todo.add(x.from()));
    }
    return sources;
  }

  /** Whether {@code edge} runs chained (references, in one task). */
  boolean chained(StreamEdge edge) {
    return chained.get(edge);
  }

  /** The exchange of a non-chained {@code edge}. */
  Exchange exchange(StreamEdge edge) {
    for (Exchange x : exchanges) {
      if (x.edge() == edge) {
        return x;
      }
    }
    throw new IllegalArgumentException("edge " + edge + " is chained, not an exchange");
  }

  /** The exchanges into {@code vertex}, in channel order. */
  List<Exchange> inputsOf(int vertex) {
    return exchanges.stream().filter(x -> x.to() == vertex).toList();
  }

  /** The number of channels of each task's inbox in {@code vertex}. */
  int channels(int vertex) {
    return channels[vertex];
  }

  /** Every task of an attempt, without restore information. */
  public List<TaskSpec> tasks(int attempt) {
    List<TaskSpec> out = new ArrayList<>();
    for (Vertex v : vertices) {
      boolean keyed = keyedHead(v.index()) != null;
      for (int i = 0; i < v.parallelism(); i++) {
        KeyGroupRange groups = keyed
            ? KeyGroupRange.forSubtask(maxParallelism, v.parallelism(), i) : null;
        out.add(new TaskSpec(graph.name(), attempt, v.index(), i, v.parallelism(), groups, null,
            List.of(), null));
      }
    }
    return out;
  }

  /**
   * The job as it runs, for the REST API: each operator with its kind, resolved parallelism,
   * uid (keyed) and vertex; each edge with its resolved partitioning, whether it is chained and
   * its serde.
   */
  public Map<String, Object> describe() {
    List<Map<String, Object>> operators = new ArrayList<>();
    for (Transformation t : graph.nodes()) {
      Map<String, Object> op = new LinkedHashMap<>();
      op.put("id", t.id());
      op.put("name", t.name());
      op.put("kind", t.kind());
      op.put("parallelism", parallelism.get(t.id()));
      if (t instanceof Transformation.KeyedProcessNode k) {
        op.put("uid", k.uid());
      }
      op.put("vertex", vertexOf.get(t.id()));
      operators.add(op);
    }
    List<Map<String, Object>> edgeList = new ArrayList<>();
    for (StreamEdge e : graph.edges()) {
      Map<String, Object> edge = new LinkedHashMap<>();
      edge.put("from", e.from());
      edge.put("to", e.to());
      edge.put("partitioning", resolved.get(e).describe());
      edge.put("chained", chained.get(e));
      edge.put("serde", e.serde() == null ? null : e.serde().toString());
      edgeList.add(edge);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("job", graph.name());
    out.put("operators", operators);
    out.put("edges", edgeList);
    return out;
  }
}
