package io.stratus.scheduler.lease;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stratus.cache.NamedDaemonThreadFactory;
import io.stratus.store.objectstore.ObjectStore;
import io.stratus.store.objectstore.VersionedObject;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lease a coordinator holds on its bucket prefix: the object {@value #KEY}, which names the
 * holder and is renewed by compare-and-swap ({@link ObjectStore#putIfVersion}). While one
 * process holds it, any other coordinator (or demo) on the same prefix refuses to start, naming
 * the holder, instead of deleting the files of a job it does not know. The protocol is in
 * {@code docs/lease.md}.
 *
 * <p>Implementation notes. Acquisition reads the lease and then: creates it if there is none
 * ({@code putIfAbsent}); takes it over at the next epoch if it was released, or if its holder
 * ran on this machine and its process is gone; refuses at once if it was renewed within the
 * ttl by the holder's clock; otherwise watches it for one ttl of the local clock and takes it
 * over only if it did not change (so a holder with a skewed clock that still renews keeps it).
 * Every takeover is a compare-and-swap from the version read, so of two contenders one wins.
 *
 * <p>Renewals run on the lease's own thread, never on an event loop. The holder steps down
 * ({@link #lost()} completes) when a renewal finds another version (someone took over) or when
 * no renewal sent in the last {@code ttl - renewInterval} has succeeded: a contender needs a
 * full ttl of unchanged lease to take over, so the holder has stopped one interval before.
 * {@link #close()} releases the lease, so the next process starts without waiting.
 *
 * <p>The epoch grows with every holder: it is the fencing token that later writes can carry.
 */
public final class CoordinatorLease implements AutoCloseable {

  /** Where the lease lives, relative to the store's root (the bucket prefix). */
  public static final String KEY = "coordinator/lease.json";

  private static final Logger LOG = LoggerFactory.getLogger(CoordinatorLease.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int FORMAT = 1;

  /**
   * The lease object's content.
   *
   * @param format     the format version, {@value #FORMAT}
   * @param holder     who holds (or last held) it
   * @param epoch      1 for the first holder, one more for each next one
   * @param acquiredAt when the holder took it, epoch milliseconds
   * @param renewedAt  when the holder last renewed it, by its clock
   * @param ttlMillis  the holder's ttl
   * @param renewals   renewals so far, which makes every write's content unique
   * @param released   the holder let go of it: anyone may take it at once
   */
  record Lease(@JsonProperty("format") int format, @JsonProperty("holder") LeaseHolder holder,
      @JsonProperty("epoch") long epoch, @JsonProperty("acquiredAt") long acquiredAt,
      @JsonProperty("renewedAt") long renewedAt, @JsonProperty("ttlMillis") long ttlMillis,
      @JsonProperty("renewals") long renewals, @JsonProperty("released") boolean released) {

    byte[] toJson() {
      try {
        return JSON.writeValueAsBytes(this);
      } catch (IOException e) {
        throw new IllegalStateException("cannot encode the lease", e);
      }
    }

    Lease renewed(long now) {
      return new Lease(format, holder, epoch, acquiredAt, now, ttlMillis, renewals + 1, false);
    }
  }

  private final ObjectStore objects;
  private final LeaseConfig config;
  private final ScheduledExecutorService thread;
  private final CompletableFuture<String> lost = new CompletableFuture<>();
  private Lease lease;
  private String versionTag;
  /** {@link System#nanoTime()} when the last successful write was sent. */
  private long confirmedAtNanos;
  private ScheduledFuture<?> renewals;
  private boolean closed;

  private CoordinatorLease(ObjectStore objects, LeaseConfig config) {
    this.objects = objects;
    this.config = config;
    this.thread = Executors.newSingleThreadScheduledExecutor(
        new NamedDaemonThreadFactory("stratus-lease"));
  }

  /**
   * Acquires the lease on {@code objects}' prefix for {@code holder}.
   *
   * @return the held lease, renewing itself; fails with {@link LeaseHeldException} naming the
   *         holder when another live process has it, with {@link IllegalStateException} naming
   *         the object when it is not a lease, or with the object store's error
   */
  public static CompletableFuture<CoordinatorLease> acquire(ObjectStore objects,
      LeaseConfig config, LeaseHolder holder) {
    CoordinatorLease lease = new CoordinatorLease(objects, config);
    CompletableFuture<CoordinatorLease> acquired = new CompletableFuture<>();
    lease.attempt(holder, null, 0, acquired);
    return acquired.whenComplete((l, e) -> {
      if (e != null) {
        lease.thread.shutdownNow();
      }
    });
  }

  /**
   * How a round of acquisition ended: we wrote the lease (to be confirmed), we must read it
   * again at once, or a timer continues the acquisition.
   */
  private record Round(Lease written, String tag, long sentNanos, boolean again) {
    static final Round AGAIN = new Round(null, null, 0, true);
    static final Round LATER = new Round(null, null, 0, false);
  }

  /** One round: read the lease, then create, take over, refuse or watch it. */
  private void attempt(LeaseHolder holder, String watchedTag, long watchedSinceNanos,
      CompletableFuture<CoordinatorLease> acquired) {
    long sent = System.nanoTime();
    objects.getVersioned(KEY).thenCompose(current -> {
      long now = System.currentTimeMillis();
      if (current.isEmpty()) {
        Lease first = new Lease(FORMAT, holder, 1, now, now, config.ttl().toMillis(), 0, false);
        return objects.putIfAbsent(KEY, first.toJson()).thenCompose(created -> !created
            ? CompletableFuture.completedFuture(Round.AGAIN)
            : objects.getVersioned(KEY).thenApply(read -> read
                .filter(v -> Arrays.equals(v.data(), first.toJson()))
                .map(v -> new Round(first, v.versionTag(), sent, false)).orElse(Round.AGAIN)));
      }
      Lease existing = parse(current.get());
      String tag = current.get().versionTag();
      String takeover = existing.released() ? "released by " + existing.holder()
          : existing.holder().isGoneFromThisMachine()
              ? "left by " + existing.holder() + ", whose process is gone"
              : tag.equals(watchedTag) && System.nanoTime() - watchedSinceNanos
                  >= TimeUnit.MILLISECONDS.toNanos(existing.ttlMillis())
                  ? "not renewed by " + existing.holder() + " for " + existing.ttlMillis()
                  + " ms" : null;
      if (takeover != null) {
        Lease next = new Lease(FORMAT, holder, existing.epoch() + 1, now, now,
            config.ttl().toMillis(), 0, false);
        return objects.putIfVersion(KEY, next.toJson(), tag).thenApply(won -> won.map(t -> {
          LOG.info("Taking the lease on {} at epoch {}, {}", objects.location(), next.epoch(),
              takeover);
          return new Round(next, t, sent, false);
        }).orElse(Round.AGAIN));
      }
      long age = now - existing.renewedAt();
      if (watchedTag != null && !tag.equals(watchedTag)) {
        // It changed while we watched: its holder renews, whatever its clock says.
        throw new LeaseHeldException(objects.location() + " is in use by " + existing.holder()
            + ", which renews its lease (its clock is " + seconds(Math.max(0, age))
            + " behind ours); stop that process first, or use another data directory or "
            + "bucket prefix", existing.holder());
      }
      if (age < existing.ttlMillis()) {
        throw new LeaseHeldException(objects.location() + " is in use by " + existing.holder()
            + ", which renewed its lease " + seconds(Math.max(0, age)) + " ago; stop that "
            + "process first, or use another data directory or bucket prefix (if that process "
            + "is gone, its lease expires in " + seconds(existing.ttlMillis() - age) + ")",
            existing.holder());
      }
      boolean sameVersion = tag.equals(watchedTag);
      if (!sameVersion) {
        LOG.warn("The lease on {} held by {} was last renewed {} ago; taking it over if it "
            + "stays unchanged for {}", objects.location(), existing.holder(), seconds(age),
            seconds(existing.ttlMillis()));
      }
      long since = sameVersion ? watchedSinceNanos : System.nanoTime();
      later(config.renewInterval(), () -> attempt(holder, tag, since, acquired));
      return CompletableFuture.completedFuture(Round.LATER);
    }).whenComplete((round, error) -> {
      if (error != null) {
        acquired.completeExceptionally(unwrap(error));
      } else if (round.again()) {
        // Another contender changed the lease between our read and our write.
        attempt(holder, null, 0, acquired);
      } else if (round.written() != null) {
        later(settleDelay(), () -> confirm(holder, round, acquired));
      }
    });
  }

  /**
   * Reads the lease back a moment after writing it, and holds it only if it is still ours.
   * Conditional writes are atomic on S3, but not on every S3-compatible server (S3Proxy checks
   * {@code If-Match} and then writes): of two contenders that both "won" there, the one whose
   * write landed last finds its own lease here, the other goes round again and is refused.
   */
  private void confirm(LeaseHolder holder, Round round,
      CompletableFuture<CoordinatorLease> acquired) {
    objects.getVersioned(KEY).whenComplete((read, error) -> {
      if (error != null) {
        acquired.completeExceptionally(unwrap(error));
      } else if (read.isPresent() && read.get().versionTag().equals(round.tag())
          && Arrays.equals(read.get().data(), round.written().toJson())) {
        acquired.complete(held(round.written(), round.tag(), round.sentNanos()));
      } else {
        attempt(holder, null, 0, acquired);
      }
    });
  }

  private Duration settleDelay() {
    return config.renewInterval().dividedBy(4);
  }

  private void later(Duration delay, Runnable action) {
    thread.schedule(action, delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  private CoordinatorLease held(Lease value, String tag, long sentNanos) {
    synchronized (this) {
      lease = value;
      versionTag = tag;
      confirmedAtNanos = sentNanos;
    }
    long every = config.renewInterval().toMillis();
    renewals = thread.scheduleWithFixedDelay(this::renew, every, every, TimeUnit.MILLISECONDS);
    LOG.info("Holding the lease on {} as {} (epoch {})", objects.location(), value.holder(),
        value.epoch());
    return this;
  }

  private void renew() {
    Lease next;
    String expected;
    long deadline;
    synchronized (this) {
      if (closed || lost.isDone()) {
        return;
      }
      next = lease.renewed(System.currentTimeMillis());
      expected = versionTag;
      deadline = stepDownDeadline();
    }
    long sent = System.nanoTime();
    try {
      // Bounded by the step-down deadline: a request that hangs must not keep this holder
      // acting past the point where a successor may take over.
      Optional<String> tag = objects.putIfVersion(KEY, next.toJson(), expected)
          .get(Math.max(1, deadline - sent), TimeUnit.NANOSECONDS);
      if (tag.isPresent()) {
        synchronized (this) {
          lease = next;
          versionTag = tag.get();
          confirmedAtNanos = sent;
        }
        return;
      }
      Optional<VersionedObject> current = objects.getVersioned(KEY)
          .get(config.ttl().toMillis(), TimeUnit.MILLISECONDS);
      Lease now = null;
      String unreadable = null;
      if (current.isPresent()) {
        try {
          now = parse(current.get());
        } catch (RuntimeException e) {
          unreadable = e.getMessage();
        }
      }
      if (now != null && now.holder().owner().equals(next.holder().owner())
          && now.epoch() == next.epoch() && !now.released()) {
        // A renewal whose answer we did not get had landed: only this holder writes its owner
        // id, so the lease is still ours. The time it landed is unknown: confirmedAt stays.
        synchronized (this) {
          lease = now;
          versionTag = current.get().versionTag();
        }
        return;
      }
      stepDown("the lease on " + objects.location() + " was taken over: " + (now != null
          ? "it is now held by " + now.holder() + " at epoch " + now.epoch()
          : unreadable != null ? unreadable : "it was deleted"));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      long silentMillis;
      synchronized (this) {
        silentMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - confirmedAtNanos);
      }
      String cause = e instanceof TimeoutException ? "no answer"
          : String.valueOf(unwrap(e.getCause()).getMessage());
      // The next renewal comes one interval later: step down now if that would be too late.
      if (System.nanoTime() + config.renewInterval().toNanos() >= deadline) {
        stepDown("the lease on " + objects.location() + " could not be renewed for "
            + seconds(silentMillis) + ", so another process may take it over: " + cause);
      } else {
        LOG.warn("Renewing the lease on {} failed ({} since the last renewal): {}",
            objects.location(), seconds(silentMillis), cause);
      }
    }
  }

  /**
   * When this holder must have stepped down unless a renewal succeeds: one interval before a
   * contender, who waits a full ttl from its first sight of our last version, may take over.
   */
  private long stepDownDeadline() {
    return confirmedAtNanos + config.ttl().minus(config.renewInterval()).toNanos();
  }

  private void stepDown(String reason) {
    LOG.error("Stepping down: {}", reason);
    if (renewals != null) {
      renewals.cancel(false);
    }
    lost.complete(reason);
  }

  /**
   * Renews the lease now; completes once that renewal succeeded, or fails naming why this
   * process cannot be sure it still holds the lease (taken over, lost, or the renewal did not
   * get through). Writes that a deposed coordinator must never make (a checkpoint's metadata,
   * deletes) start only after it: a successor takes over no sooner than a full ttl after our
   * last successful renewal, so a write started at once lands while the lease is still ours.
   * This is the fencing: the renewal is a conditional write on the lease object, which fails
   * once a successor has written its epoch there.
   */
  public CompletableFuture<Void> confirmHeld() {
    CompletableFuture<Void> confirmed = new CompletableFuture<>();
    thread.execute(() -> {
      long before;
      synchronized (this) {
        before = confirmedAtNanos;
      }
      renew();
      synchronized (this) {
        if (lost.isDone()) {
          confirmed.completeExceptionally(new IllegalStateException("this coordinator no "
              + "longer holds the lease on " + objects.location() + ": " + lost.join()));
        } else if (closed || confirmedAtNanos == before) {
          confirmed.completeExceptionally(new IllegalStateException("the lease on "
              + objects.location() + " could not be confirmed just now"));
        } else {
          confirmed.complete(null);
        }
      }
    });
    return confirmed;
  }

  /**
   * Completes, with the reason, when this process no longer holds the lease: it must then stop
   * writing to the prefix at once.
   */
  public CompletableFuture<String> lost() {
    return lost;
  }

  /**
   * Until when ({@link System#nanoTime()}'s clock) no successor can have taken the lease over:
   * the step-down deadline of the last successful renewal; already passed once the lease is
   * lost or released.
   */
  public synchronized long heldUntilNanos() {
    return closed || lost.isDone() ? Long.MIN_VALUE : stepDownDeadline();
  }

  /**
   * {@code objects} (this lease's prefix) for a holder's writes: each one must land while the
   * lease is certainly held ({@link ObjectStore#until} the {@link #heldUntilNanos} at its
   * start), so a holder that lost the lease, or could not renew it in time, writes nothing
   * more, not even a retry. The control plane ({@link ObjectStore#forControlPlane}) is not
   * bounded: its writes are compare-and-swaps that fence themselves.
   */
  public ObjectStore bound(ObjectStore objects) {
    return new LeaseBoundObjectStore(objects, this);
  }

  /** This holder's epoch: larger than every earlier holder's. */
  public synchronized long epoch() {
    return lease.epoch();
  }

  /** This holder. */
  public synchronized LeaseHolder holder() {
    return lease.holder();
  }

  /** Where the lease is, for messages. */
  public String location() {
    return objects.location() + " (" + KEY + ")";
  }

  /** Stops renewing and releases the lease, so that the next process need not wait. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    if (renewals != null) {
      renewals.cancel(false);
    }
    try {
      if (!lost.isDone()) {
        // On the lease's thread, so after any renewal in progress (it changes the version).
        thread.submit(this::release).get(config.ttl().toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      LOG.warn("Releasing the lease on {} failed; it expires within {}: {}",
          objects.location(), seconds(config.ttl().toMillis()),
          String.valueOf(unwrap(e).getMessage()));
    } finally {
      lost.complete("the lease was released");
      thread.shutdownNow();
    }
  }

  private Void release() throws Exception {
    Lease released;
    String expected;
    synchronized (this) {
      released = new Lease(FORMAT, lease.holder(), lease.epoch(), lease.acquiredAt(),
          System.currentTimeMillis(), lease.ttlMillis(), lease.renewals() + 1, true);
      expected = versionTag;
    }
    if (objects.putIfVersion(KEY, released.toJson(), expected)
        .get(config.ttl().toMillis(), TimeUnit.MILLISECONDS).isPresent()) {
      LOG.info("Released the lease on {}", objects.location());
    }
    return null;
  }

  private Lease parse(VersionedObject object) {
    try {
      Lease l = JSON.readValue(object.data(), Lease.class);
      if (l.holder() == null || l.format() != FORMAT) {
        throw new IOException(l.holder() == null ? "it names no holder"
            : "format " + l.format() + " is not " + FORMAT);
      }
      return l;
    } catch (IOException e) {
      throw new IllegalStateException(KEY + " in " + objects.location() + " is not a lease ("
          + e.getMessage().lines().findFirst().orElse("") + "); if no coordinator runs on "
          + "this prefix, delete that object", e);
    }
  }

  private static String seconds(long millis) {
    return String.format("%.1f s", millis / 1000.0);
  }

  private static Throwable unwrap(Throwable e) {
    Throwable c = e;
    while ((c instanceof CompletionException
        || c instanceof ExecutionException) && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }
}
