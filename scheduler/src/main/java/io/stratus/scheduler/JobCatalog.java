package io.stratus.scheduler;

import io.stratus.store.objectstore.ObjectStore;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The jobs this binary knows, by name: in application mode the coordinator and the workers run
 * the same code, so a deploy message only needs to name the job and its parameters. A job is
 * either a {@link JobFactory} (found with {@link ServiceLoader}, built from parameters) or a
 * {@link JobDefinition} registered as it is (tests and embedded programs).
 */
public final class JobCatalog {

  private final Map<String, JobDefinition> jobs = new ConcurrentHashMap<>();
  private final Map<String, JobFactory> factories = new ConcurrentHashMap<>();
  /** Definitions built from factories, by name and parameters: every deploy finds the same. */
  private final Map<List<Object>, JobDefinition> built = new ConcurrentHashMap<>();
  private final ObjectStore objects;
  private final Path localDir;

  /** A catalog whose factories get no bucket (only registered definitions). */
  public JobCatalog() {
    this(null, null);
  }

  /**
   * A catalog whose factories build jobs over {@code objects}, with local files under
   * {@code localDir}.
   */
  public JobCatalog(ObjectStore objects, Path localDir) {
    this.objects = objects;
    this.localDir = localDir;
  }

  /** A catalog of every {@link JobFactory} on the class path. */
  public static JobCatalog load(ObjectStore objects, Path localDir) {
    JobCatalog catalog = new JobCatalog(objects, localDir);
    for (JobFactory f : ServiceLoader.load(JobFactory.class)) {
      catalog.register(f);
    }
    return catalog;
  }

  public void register(JobDefinition job) {
    if (factories.containsKey(job.name())) {
      throw new IllegalArgumentException("a job named '" + job.name() + "' is registered already");
    }
    JobDefinition previous = jobs.putIfAbsent(job.name(), job);
    if (previous != null && previous != job) {
      throw new IllegalArgumentException("a job named '" + job.name() + "' is registered already");
    }
  }

  public void register(JobFactory factory) {
    if (jobs.containsKey(factory.name())
        || factories.putIfAbsent(factory.name(), factory) != null) {
      throw new IllegalArgumentException("two jobs are named '" + factory.name() + "'");
    }
  }

  /** The job named {@code name} with its default parameters; see {@link #get(String, Map)}. */
  public JobDefinition get(String name) {
    return get(name, Map.of());
  }

  /**
   * The job named {@code name}, built with {@code parameters}.
   *
   * @throws UnknownJobException naming it and the known ones when unknown
   * @throws IllegalArgumentException naming a parameter the job does not take or rejects
   */
  public JobDefinition get(String name, Map<String, String> parameters) {
    JobDefinition job = jobs.get(name);
    if (job != null) {
      if (!parameters.isEmpty()) {
        throw new IllegalArgumentException("job '" + name + "' takes no parameters, got "
            + parameters.keySet());
      }
      return job;
    }
    JobFactory factory = factories.get(name);
    if (factory == null) {
      throw new UnknownJobException("no job named '" + name + "' in this binary; it has "
          + names());
    }
    Map<String, String> sorted = new TreeMap<>(parameters);
    for (String p : sorted.keySet()) {
      if (!factory.parameters().containsKey(p)) {
        throw new IllegalArgumentException("job '" + name + "' has no parameter '" + p
            + "'; its parameters: " + new TreeSet<>(factory.parameters().keySet()));
      }
    }
    return built.computeIfAbsent(List.of(name, sorted), k -> {
      JobDefinition d = factory.create(new JobFactory.Context(Map.copyOf(sorted), objects,
          localDir == null ? null : localDir.resolve(name)));
      if (!d.name().equals(name)) {
        throw new IllegalStateException("job factory " + factory.getClass().getName()
            + " is named '" + name + "' but built a job named '" + d.name() + "'");
      }
      return d;
    });
  }

  /** The factory of {@code name}, or null when it is unknown or registered as a definition. */
  public JobFactory factory(String name) {
    return factories.get(name);
  }

  /** The names of the jobs this binary can run, sorted. */
  public List<String> names() {
    TreeSet<String> all = new TreeSet<>(jobs.keySet());
    all.addAll(factories.keySet());
    return List.copyOf(all);
  }
}
