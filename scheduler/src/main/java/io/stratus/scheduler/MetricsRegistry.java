package io.stratus.scheduler;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The coordinator's one metrics registry: named families of gauges and counters whose samples
 * are read when scraped, rendered in the Prometheus text exposition format (version 0.0.4).
 * Families are registered once; each supplies its samples (label values → value) on demand,
 * so nothing is sampled between scrapes. Thread-safe.
 */
public final class MetricsRegistry {

  /** What a family is, for the {@code # TYPE} line. */
  public enum Type { GAUGE, COUNTER }

  /** Collects the samples of one family at scrape time. */
  public interface Sampler {
    /**
     * One sample.
     *
     * @param labels label names and values, in order (may be empty)
     * @param value  the value
     */
    void sample(Map<String, String> labels, double value);
  }

  private record Family(String name, String help, Type type, Consumer<Sampler> samples) {}

  private final Map<String, Family> families = new LinkedHashMap<>();

  /**
   * Registers a family.
   *
   * @param name    metric name ({@code [a-zA-Z_:][a-zA-Z0-9_:]*}); counters end in
   *                {@code _total}
   * @param samples called at each scrape with a sampler to report into
   * @throws IllegalArgumentException on an invalid or duplicate name
   */
  public synchronized void register(String name, String help, Type type,
      Consumer<Sampler> samples) {
    if (!name.matches("[a-zA-Z_:][a-zA-Z0-9_:]*")) {
      throw new IllegalArgumentException("invalid metric name '" + name + "'");
    }
    if (families.putIfAbsent(name, new Family(name, help, type, samples)) != null) {
      throw new IllegalArgumentException("metric '" + name + "' is registered already");
    }
  }

  /** Every family's current samples in the Prometheus text format. */
  public String render() {
    List<Family> all;
    synchronized (this) {
      all = new ArrayList<>(families.values());
    }
    StringBuilder out = new StringBuilder();
    for (Family f : all) {
      out.append("# HELP ").append(f.name()).append(' ').append(escapeHelp(f.help()))
          .append('\n');
      out.append("# TYPE ").append(f.name()).append(' ')
          .append(f.type().name().toLowerCase()).append('\n');
      f.samples().accept((labels, value) -> {
        out.append(f.name());
        if (!labels.isEmpty()) {
          out.append('{');
          boolean first = true;
          for (Map.Entry<String, String> l : labels.entrySet()) {
            if (!first) {
              out.append(',');
            }
            first = false;
            out.append(l.getKey()).append("=\"").append(escapeLabel(l.getValue())).append('"');
          }
          out.append('}');
        }
        out.append(' ').append(format(value)).append('\n');
      });
    }
    return out.toString();
  }

  private static String format(double v) {
    if (Double.isNaN(v)) {
      return "NaN";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "+Inf" : "-Inf";
    }
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
  }

  private static String escapeHelp(String s) {
    return s.replace("\\", "\\\\").replace("\n", "\\n");
  }

  private static String escapeLabel(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }
}
