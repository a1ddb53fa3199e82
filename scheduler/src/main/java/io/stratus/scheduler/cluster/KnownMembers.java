package io.stratus.scheduler.cluster;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stratus.store.objectstore.ObjectStore;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's members as the leading coordinator last saw them, in the bucket
 * ({@code coordinator/members.json}): a coordinator that starts (a restarted one, or one on a
 * new machine) joins the cluster through these addresses, so it finds the workers that kept
 * running without it at once instead of forming a cluster of its own. Advisory only: addresses
 * that no longer answer are skipped by the join.
 */
public final class KnownMembers {

  /** Where the list lives, relative to the store's root. */
  public static final String KEY = "coordinator/members.json";

  private static final Logger LOG = LoggerFactory.getLogger(KnownMembers.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private KnownMembers() {}

  /** The members last written, or none if there is no (readable) list. */
  public static CompletableFuture<List<String>> read(ObjectStore objects) {
    return objects.getVersioned(KEY).thenApply(found -> {
      if (found.isEmpty()) {
        return List.<String>of();
      }
      try {
        return List.copyOf(JSON.readValue(found.get().data(), new TypeReference<List<String>>() {
        }));
      } catch (IOException e) {
        LOG.warn("Ignoring {}: {}", KEY, e.getMessage());
        return List.<String>of();
      }
    }).exceptionally(e -> {
      LOG.warn("Cannot read {}: {}", KEY, e.getMessage());
      return List.of();
    });
  }

  /** Writes the list (the leader does, whenever a member joins or leaves). */
  public static CompletableFuture<Void> write(ObjectStore objects, List<String> members) {
    try {
      return objects.put(KEY, JSON.writeValueAsBytes(members.stream().sorted().toList()));
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
  }
}
