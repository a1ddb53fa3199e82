package io.stratus.cache;

import java.util.concurrent.CompletableFuture;

/**
 * Fetches a block from the tier below the cache (the object store). Called at most once at a
 * time per key however many readers wait for it (single flight). The returned bytes must be
 * exactly {@link BlockKey#length()} long and already verified by the caller's format (for SST
 * blocks, their CRC): the cache stores what the loader returns.
 */
@FunctionalInterface
public interface BlockLoader {

  /** Starts loading {@code key}; must not block the calling thread. */
  CompletableFuture<byte[]> load(BlockKey key);
}
