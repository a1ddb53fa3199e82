package io.stratus.store.lsm;

import java.util.List;

/**
 * A snapshot of one store's state and cumulative counters.
 *
 * @param memtableBytes       bytes in the active memtable
 * @param immutableMemtables  sealed memtables waiting for their flush
 * @param levelFiles          file views per level
 * @param levelBytes          bytes per level
 * @param flushes             flushes completed
 * @param flushedBytes        bytes of SST written by flushes
 * @param deltas              deltas uploaded (a memtable's recent writes, for checkpoints)
 * @param deltaBytes          bytes of SST written as deltas
 * @param compactions         compactions completed (trivial moves included)
 * @param trivialMoves        of which moved files without rewriting them
 * @param compactionReadBytes bytes read by compactions
 * @param compactionWrittenBytes bytes written by compactions
 * @param writeStallNanos     time writers spent stalled
 * @param checkpoints         versions published
 * @param pinnedBytes         heap pinned by open files' filters and indexes
 * @param deletedFiles        files this store deleted (written and compacted away before any
 *                            checkpoint referenced them)
 */
public record StoreMetrics(long memtableBytes, int immutableMemtables, List<Integer> levelFiles,
    List<Long> levelBytes, long flushes, long flushedBytes, long deltas, long deltaBytes,
    long compactions, long trivialMoves,
    long compactionReadBytes, long compactionWrittenBytes, long writeStallNanos, long checkpoints,
    long pinnedBytes, long deletedFiles) {

  /** Bytes of all levels. */
  public long totalBytes() {
    long total = 0;
    for (long b : levelBytes) {
      total += b;
    }
    return total;
  }
}
