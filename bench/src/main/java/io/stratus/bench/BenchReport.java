package io.stratus.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The results of one macro benchmark run: rows of named values, stamped with the machine (cores,
 * memory, JVM), the configuration and the run's wall time, written to
 * {@code bench/results/<name>.json}, {@code .csv}, {@code .md} and one PNG per bar chart
 * ({@code bench/results/quick/} for quick runs).
 */
public final class BenchReport {

  private final String name;
  private final Path directory;
  private final Map<String, Object> configuration = new LinkedHashMap<>();
  private final List<Map<String, Object>> rows = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();
  private final List<String[]> charts = new ArrayList<>();
  private final long startedNanos = System.nanoTime();

  /**
   * A report named {@code name}; a quick run's files go to {@code bench/results/quick}, so they
   * never replace a full run's.
   */
  public BenchReport(String name, boolean quick) {
    this.name = name;
    this.directory = quick ? Path.of("bench", "results", "quick") : Path.of("bench", "results");
    configuration.put("quick", quick);
  }

  /** Records a configuration value; anything but numbers, booleans and lists as its text. */
  public BenchReport config(String key, Object value) {
    boolean plain = value instanceof Number || value instanceof Boolean
        || value instanceof List<?>;
    configuration.put(key, plain ? value : String.valueOf(value));
    return this;
  }

  public void row(Map<String, Object> row) {
    rows.add(new LinkedHashMap<>(row));
    System.out.println("  " + row);
  }

  public void note(String text) {
    notes.add(text);
  }

  /**
   * Adds a bar chart to {@link #write}: one bar per distinct value of {@code labelColumns}, its
   * length the median of {@code valueColumn} over the rows with that label.
   */
  public BenchReport barChart(String valueColumn, String... labelColumns) {
    String[] spec = new String[labelColumns.length + 1];
    spec[0] = valueColumn;
    System.arraycopy(labelColumns, 0, spec, 1, labelColumns.length);
    charts.add(spec);
    return this;
  }

  /** The machine this runs on. */
  public static Map<String, Object> machine() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cores", Runtime.getRuntime().availableProcessors());
    m.put("maxHeapMiB", Runtime.getRuntime().maxMemory() >> 20);
    var os = (com.sun.management.OperatingSystemMXBean)
        ManagementFactory.getOperatingSystemMXBean();
    m.put("physicalMemoryMiB", os.getTotalMemorySize() >> 20);
    m.put("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
    m.put("date", Instant.now().toString());
    return m;
  }

  /** Writes the JSON, CSV and Markdown files (and charts); returns the Markdown path. */
  public Path write() {
    try {
      Files.createDirectories(directory);
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("benchmark", name);
      doc.put("machine", machine());
      doc.put("configuration", configuration);
      String wall = String.format("%.1f min", (System.nanoTime() - startedNanos) / 60e9);
      doc.put("wallTime", wall);
      doc.put("results", rows);
      doc.put("notes", notes);
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
          .writeValue(directory.resolve(name + ".json").toFile(), doc);
      List<String> columns = new ArrayList<>();
      for (Map<String, Object> r : rows) {
        for (String c : r.keySet()) {
          if (!columns.contains(c)) {
            columns.add(c);
          }
        }
      }
      StringBuilder csv = new StringBuilder(String.join(",", columns)).append('\n');
      StringBuilder md = new StringBuilder("# ").append(name).append("\n\n");
      md.append("Machine: ").append(machine()).append("\n\n");
      md.append("Configuration: ").append(configuration).append("\n\n");
      md.append("Wall time of the run: ").append(wall).append("\n\n");
      md.append("| ").append(String.join(" | ", columns)).append(" |\n|");
      md.append(" --- |".repeat(columns.size())).append('\n');
      for (Map<String, Object> r : rows) {
        List<String> cells = new ArrayList<>();
        for (String c : columns) {
          cells.add(format(r.get(c)));
        }
        List<String> csvCells = new ArrayList<>();
        List<String> mdCells = new ArrayList<>();
        for (String cell : cells) {
          // Failure texts carry commas, pipes and line breaks.
          csvCells.add(cell.matches("(?s).*[,\"\n].*")
              ? '"' + cell.replace("\"", "\"\"") + '"' : cell);
          mdCells.add(cell.replace("|", "\\|").replace('\n', ' '));
        }
        csv.append(String.join(",", csvCells)).append('\n');
        md.append("| ").append(String.join(" | ", mdCells)).append(" |\n");
      }
      for (String n : notes) {
        md.append("\n").append(n).append('\n');
      }
      for (String[] chart : charts) {
        Path png = directory.resolve(name + "-" + chart[0] + ".png");
        BarChart.write(png, name + ": " + chart[0] + " (median)", medians(chart), chart[0]);
        md.append("\n![").append(chart[0]).append("](").append(png.getFileName())
            .append(")\n");
      }
      Files.writeString(directory.resolve(name + ".csv"), csv);
      Path markdown = directory.resolve(name + ".md");
      Files.writeString(markdown, md);
      return markdown;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write results to " + directory, e);
    }
  }

  /** Label → median of the chart's value column, labels in first-seen order. */
  private Map<String, Double> medians(String[] chart) {
    Map<String, List<Double>> values = new LinkedHashMap<>();
    for (Map<String, Object> r : rows) {
      if (!(r.get(chart[0]) instanceof Number n)) {
        continue;
      }
      List<String> label = new ArrayList<>();
      for (int i = 1; i < chart.length; i++) {
        label.add(String.valueOf(r.get(chart[i])));
      }
      values.computeIfAbsent(String.join(" / ", label), k -> new ArrayList<>())
          .add(n.doubleValue());
    }
    Map<String, Double> out = new LinkedHashMap<>();
    values.forEach((label, v) -> out.put(label, minMedianMax(v)[1]));
    return out;
  }

  private static String format(Object v) {
    if (v == null) {
      return "";
    }
    if (v instanceof Double d) {
      return Math.abs(d) >= 100 ? String.format("%.0f", d) : String.format("%.3g", d);
    }
    return v.toString();
  }

  /** Min, median and max of {@code values} (sorted copy); NaN for none. */
  public static double[] minMedianMax(List<Double> values) {
    if (values.isEmpty()) {
      return new double[] {Double.NaN, Double.NaN, Double.NaN};
    }
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(null);
    return new double[] {sorted.get(0), sorted.get(sorted.size() / 2),
        sorted.get(sorted.size() - 1)};
  }
}
