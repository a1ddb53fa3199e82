package io.stratus.runtime.execution;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The inboxes of the tasks in this JVM, found by (job attempt, vertex, subtask) whatever
 * order tasks are built in: producers and consumers of one channel may live on different
 * workers. Across hosts, a network channel would take its place behind the same key.
 */
public final class ChannelRegistry {

  private record Key(String job, int attempt, int vertex, int subtask) {}

  private final Map<Key, TaskInbox> inboxes = new ConcurrentHashMap<>();

  TaskInbox inbox(String job, int attempt, int vertex, int subtask, int capacity) {
    return inboxes.computeIfAbsent(new Key(job, attempt, vertex, subtask),
        k -> new TaskInbox(capacity));
  }

  /** Drops the inboxes of one attempt of a job. */
  public void release(String job, int attempt) {
    inboxes.keySet().removeIf(k -> k.job.equals(job) && k.attempt == attempt);
  }
}
