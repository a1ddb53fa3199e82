package io.stratus.scheduler;

import io.stratus.store.objectstore.ObjectStore;
import java.nio.file.Path;
import java.util.Map;

/**
 * A job this binary can run, found by name: the application-mode entry point. The job's jar is
 * on the class path of the coordinator and of every worker, each of which builds the same
 * {@link JobDefinition} from the job's name and parameters, so a deploy only carries those.
 *
 * <p>Implementations are listed in {@code META-INF/services/io.stratus.scheduler.JobFactory}
 * and loaded with {@link java.util.ServiceLoader} ({@link JobCatalog#load}). {@link #create}
 * must be deterministic: the same parameters give the same graph in every process. Where Flink
 * runs a user's {@code main} to build the graph, Stratus asks a factory, so that the
 * coordinator can list the jobs it can run and check their parameters before anything starts.
 */
public interface JobFactory {

  /** The job's name: what {@code POST /jobs} and {@code stratus submit} name. */
  String name();

  /** One line saying what the job does, for {@code GET /catalog}. */
  String description();

  /** The parameters {@link #create} reads, by name, each with its meaning and default. */
  Map<String, String> parameters();

  /**
   * Builds the job.
   *
   * @throws IllegalArgumentException naming the parameter when one is unknown or invalid
   */
  JobDefinition create(Context context);

  /**
   * What a job is built from.
   *
   * @param parameters the submitted parameters (absent ones take their defaults)
   * @param objects    the cluster's bucket (a transactional file sink writes its output there)
   * @param localDir   a folder on this machine for the job's local files (rocksdb-local)
   */
  record Context(Map<String, String> parameters, ObjectStore objects, Path localDir) {

    /** The parameter {@code name}, or {@code defaultValue} when it was not given. */
    public String get(String name, String defaultValue) {
      return parameters.getOrDefault(name, defaultValue);
    }

    /** A whole-number parameter; fails naming it when it is not one or is below {@code min}. */
    public long getLong(String name, long defaultValue, long min) {
      String value = parameters.get(name);
      if (value == null) {
        return defaultValue;
      }
      long parsed;
      try {
        parsed = Long.parseLong(value.strip());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("parameter '" + name + "' must be a whole number, was '"
            + value + "'");
      }
      if (parsed < min) {
        throw new IllegalArgumentException("parameter '" + name + "' must be at least " + min
            + ", was " + parsed);
      }
      return parsed;
    }
  }
}
