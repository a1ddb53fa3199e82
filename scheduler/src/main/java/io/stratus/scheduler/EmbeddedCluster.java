package io.stratus.scheduler;

import io.stratus.cache.BlockCacheConfig;
import io.stratus.cache.HybridBlockCache;
import io.stratus.network.DataPlaneConfig;
import io.stratus.runtime.execution.ChannelRegistry;
import io.stratus.runtime.execution.RuntimeResources;
import io.stratus.scheduler.lease.CoordinatorLease;
import io.stratus.scheduler.lease.LeaseConfig;
import io.stratus.scheduler.lease.LeaseHeldException;
import io.stratus.scheduler.lease.LeaseHolder;
import io.stratus.store.lsm.StoreResources;
import io.stratus.store.objectstore.ObjectStore;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;

/**
 * The embedded default: a coordinator and N workers in one JVM, sharing one Vert.x instance and
 * one object store, each worker with its own block cache (as separate machines would have).
 * They still talk only through the event bus. Records between workers go through memory (one
 * set of channels for the process), or, given a {@link DataPlaneConfig}, each worker has its
 * own data server and records between workers cross loopback TCP as between processes. The cluster holds the lease on the store's
 * prefix ({@link CoordinatorLease}) for its whole life, so a second cluster on the same prefix
 * refuses to start.
 */
public final class EmbeddedCluster implements AutoCloseable {

  private final CoordinatorLease lease;
  private final Vertx vertx;
  private final ObjectStore objects;
  private final JobCatalog catalog;
  /** The channels every worker shares; null when each worker has its own data plane. */
  private final ChannelRegistry shared;
  private final DataPlaneConfig dataPlane;
  private final Coordinator coordinator;
  private final List<Worker> workers = new ArrayList<>();
  private final List<AutoCloseable> owned = new ArrayList<>();
  private final BlockCacheConfig cacheConfig;
  private final Duration heartbeatInterval;

  /**
   * Starts a cluster.
   *
   * @param objects           where state and checkpoints go
   * @param workers           number of workers
   * @param cache             each worker's block cache
   * @param heartbeatInterval how often workers send heartbeats; a worker is lost after 10
   *                          missed ones (at least 2 s)
   */
  public EmbeddedCluster(ObjectStore objects, int workers, BlockCacheConfig cache,
      Duration heartbeatInterval) {
    this(objects, workers, cache, heartbeatInterval, LeaseConfig.defaults(), "embedded cluster",
        null);
  }

  /**
   * As above, with Vert.x's options: a test lowers the blocked-thread checker's limit
   * ({@link VertxOptions#setMaxEventLoopExecuteTime}) to find what holds an event loop.
   */
  public EmbeddedCluster(ObjectStore objects, int workers, BlockCacheConfig cache,
      Duration heartbeatInterval, VertxOptions vertxOptions) {
    this(objects, workers, cache, heartbeatInterval,
        acquire(objects, LeaseConfig.defaults(), "embedded cluster"), null, vertxOptions);
  }

  /**
   * Starts a cluster once its coordinator holds the lease on {@code objects}' prefix.
   *
   * @param lease how long the coordinator's lease lasts
   * @param role  what this process is, for the message another process gets when it finds
   *              the prefix in use (e.g. {@code stratus demo})
   * @param dataPlane each worker's data server (its port must be 0 for more than one worker);
   *              null: workers exchange records through memory
   * @throws LeaseHeldException naming the holder when another process uses the prefix
   */
  public EmbeddedCluster(ObjectStore objects, int workers, BlockCacheConfig cache,
      Duration heartbeatInterval, LeaseConfig lease, String role, DataPlaneConfig dataPlane) {
    this(objects, workers, cache, heartbeatInterval, acquire(objects, lease, role), dataPlane);
  }

  /**
   * Starts a cluster whose coordinator holds {@code held} (the cluster releases it when it
   * closes).
   */
  public EmbeddedCluster(ObjectStore objects, int workers, BlockCacheConfig cache,
      Duration heartbeatInterval, CoordinatorLease held, DataPlaneConfig dataPlane) {
    this(objects, workers, cache, heartbeatInterval, held, dataPlane, new VertxOptions());
  }

  private EmbeddedCluster(ObjectStore objects, int workers, BlockCacheConfig cache,
      Duration heartbeatInterval, CoordinatorLease held, DataPlaneConfig dataPlane,
      VertxOptions vertxOptions) {
    if (dataPlane != null && dataPlane.port() != 0 && workers > 1) {
      held.close();
      throw new IllegalArgumentException("workers in one process need data port 0 (any), not "
          + dataPlane.port());
    }
    this.dataPlane = dataPlane;
    this.shared = dataPlane == null ? new ChannelRegistry() : null;
    this.lease = held;
    this.catalog = JobCatalog.load(objects, null);
    this.vertx = Vertx.vertx(vertxOptions);
    this.objects = objects;
    this.cacheConfig = cache;
    this.heartbeatInterval = heartbeatInterval;
    Duration timeout = heartbeatInterval.multipliedBy(10);
    this.coordinator = new Coordinator(vertx, objects, held, catalog,
        timeout.compareTo(Duration.ofSeconds(2)) < 0 ? Duration.ofSeconds(2) : timeout).start();
    try {
      for (int i = 0; i < workers; i++) {
        addWorker();
      }
      coordinator.awaitWorkers(workers, Duration.ofSeconds(30)).join();
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  private static CoordinatorLease acquire(ObjectStore objects, LeaseConfig lease, String role) {
    try {
      return CoordinatorLease.acquire(objects.forControlPlane(), lease,
          LeaseHolder.thisProcess(role)).join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : e;
    }
  }

  /** Starts one more worker; returns it. */
  public Worker addWorker() {
    String id = "worker-" + (workers.size() + 1);
    // Each worker's disk tier gets its own folder, as on separate machines.
    HybridBlockCache cache = new HybridBlockCache(cacheConfig.diskDirectory() == null
        ? cacheConfig : cacheConfig.withDiskDirectory(cacheConfig.diskDirectory().resolve(id)));
    StoreResources store = StoreResources.create(objects, cache);
    owned.add(store);
    owned.add(cache);
    ChannelRegistry channels = shared;
    if (channels == null) {
      channels = new ChannelRegistry(id, dataPlane);
      owned.add(channels);
    }
    Worker worker = new Worker(id, null,
        new RuntimeResources(vertx, store), catalog, channels, heartbeatInterval).start();
    workers.add(worker);
    return worker;
  }

  public Coordinator coordinator() {
    return coordinator;
  }

  public JobCatalog catalog() {
    return catalog;
  }

  public List<Worker> workers() {
    return List.copyOf(workers);
  }

  public Vertx vertx() {
    return vertx;
  }

  /**
   * Stops the jobs, the workers (after their task state has closed) and their caches, and
   * releases the lease last: the next process may use the prefix and the cache folders only
   * once nothing here touches them.
   */
  @Override
  public void close() {
    try {
      coordinator.close();
      for (Worker w : workers) {
        w.close();
      }
      for (int i = owned.size() - 1; i >= 0; i--) {
        try {
          owned.get(i).close();
        } catch (Exception e) {
          // closing the rest matters more
        }
      }
      vertx.close().toCompletionStage().toCompletableFuture().join();
    } finally {
      lease.close();
    }
  }
}
