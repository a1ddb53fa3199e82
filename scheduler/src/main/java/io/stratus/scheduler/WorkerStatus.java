package io.stratus.scheduler;

/**
 * A live worker as the coordinator sees it, from its latest heartbeat.
 *
 * @param id            its name
 * @param dataAddress   where its data server listens ({@code host:port}), or null when it
 *                      shares the coordinator's process
 * @param lastHeartbeat when its latest heartbeat was sent, epoch milliseconds
 * @param tasks         tasks it runs
 * @param cacheHits     block cache hits (memory and disk)
 * @param cacheMisses   block cache misses (object store reads)
 * @param draining      being drained: no task is placed on it any more
 */
public record WorkerStatus(String id, String dataAddress, long lastHeartbeat, int tasks,
    long cacheHits, long cacheMisses, boolean draining) {}
