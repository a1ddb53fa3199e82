package io.stratus.scheduler;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The jobs this binary knows, by name: in application mode the coordinator and the workers run
 * the same code, so a deploy message only needs to name the job.
 */
public final class JobCatalog {

  private final Map<String, JobDefinition> jobs = new ConcurrentHashMap<>();

  public void register(JobDefinition job) {
    JobDefinition previous = jobs.putIfAbsent(job.name(), job);
    if (previous != null && previous != job) {
      throw new IllegalArgumentException("a job named '" + job.name() + "' is registered already");
    }
  }

  /** The job named {@code name}; fails naming it and the known ones when unknown. */
  public JobDefinition get(String name) {
    JobDefinition job = jobs.get(name);
    if (job == null) {
      throw new UnknownJobException("no job named '" + name + "' in this binary; it has "
          + names());
    }
    return job;
  }

  /** The names of the jobs this binary can run, sorted. */
  public List<String> names() {
    return jobs.keySet().stream().sorted().toList();
  }
}
