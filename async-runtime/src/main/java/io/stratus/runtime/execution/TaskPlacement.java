package io.stratus.runtime.execution;

import java.net.InetSocketAddress;
import java.util.Map;

/**
 * Where the tasks of one attempt run, as the coordinator placed them: which worker runs each
 * task, and where each worker's data server listens. A producer sends to a consumer on its own
 * worker through memory and to any other over the data plane.
 *
 * @param self      the worker that builds tasks with this placement
 * @param workers   worker id by task id ({@link TaskSpec#taskId()})
 * @param addresses data-server address ({@code host:port}) by worker id
 */
public record TaskPlacement(String self, Map<String, String> workers,
    Map<String, String> addresses) {

  public TaskPlacement {
    workers = Map.copyOf(workers);
    addresses = Map.copyOf(addresses);
  }

  /** Every task in this process: every channel goes through memory. */
  public static TaskPlacement local() {
    return new TaskPlacement(null, Map.of(), Map.of());
  }

  /** The worker running task {@code subtask} of {@code vertex}, or null if it is this one. */
  String remoteWorker(int vertex, int subtask) {
    if (self == null) {
      return null;
    }
    String worker = workers.get(vertex + "/" + subtask);
    if (worker == null) {
      throw new IllegalStateException("task " + vertex + "/" + subtask
          + " has no worker in the attempt's placement");
    }
    return worker.equals(self) ? null : worker;
  }

  InetSocketAddress address(String worker) {
    String a = addresses.get(worker);
    if (a == null) {
      throw new IllegalStateException("worker " + worker + " has no data address");
    }
    int colon = a.lastIndexOf(':');
    return InetSocketAddress.createUnresolved(a.substring(0, colon),
        Integer.parseInt(a.substring(colon + 1)));
  }
}
