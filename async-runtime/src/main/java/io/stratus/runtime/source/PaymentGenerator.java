package io.stratus.runtime.source;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A deterministic stream of card payments per user, for demos, tests and benchmarks: event
 * {@code n} of a split is a pure function of (seed, split, n), so a reader seeked back to an
 * offset replays exactly the same events. Users are drawn with a skew (a few heavy users, many
 * light ones: 80% of payments from 20% of users); event times advance at
 * {@code eventsPerSecond} per split with up to {@code maxDisorderMillis} of disorder.
 */
public final class PaymentGenerator implements Source<Payment> {

  private static final String[] MERCHANTS = {"grocer", "fuel", "travel", "online", "cafe",
      "pharmacy", "electronics", "books"};

  private final long seed;
  private final long users;
  private final long eventsPerSplit;
  private final long eventsPerSecond;
  private final long maxDisorderMillis;
  private final long startMillis;

  /**
   * @param seed              the stream's seed
   * @param users             number of distinct users
   * @param eventsPerSplit    events each split produces, or {@link Long#MAX_VALUE} for unbounded
   * @param eventsPerSecond   event-time rate per split
   * @param maxDisorderMillis how far an event's time may lag its position
   * @param startMillis       event time of the first event
   */
  public PaymentGenerator(long seed, long users, long eventsPerSplit, long eventsPerSecond,
      long maxDisorderMillis, long startMillis) {
    if (users < 1 || eventsPerSplit < 0 || eventsPerSecond < 1 || maxDisorderMillis < 0) {
      throw new IllegalArgumentException("payment generator needs users >= 1, events >= 0, "
          + "rate >= 1 and disorder >= 0");
    }
    this.seed = seed;
    this.users = users;
    this.eventsPerSplit = eventsPerSplit;
    this.eventsPerSecond = eventsPerSecond;
    this.maxDisorderMillis = maxDisorderMillis;
    this.startMillis = startMillis;
  }

  @Override
  public boolean bounded() {
    return eventsPerSplit != Long.MAX_VALUE;
  }

  /** Event {@code n} of split {@code split}. */
  public Payment event(int split, int splits, long n) {
    SplittableRandom r = new SplittableRandom(seed ^ (n * 0x9E3779B97F4A7C15L) ^ split);
    long heavyUsers = Math.max(1, users / 5);
    long user = r.nextInt(10) < 8 ? r.nextLong(heavyUsers) : r.nextLong(users);
    long amount = 100 + r.nextLong(20_000);
    long eventTime = startMillis + n * 1000 / eventsPerSecond
        - (maxDisorderMillis == 0 ? 0 : r.nextLong(maxDisorderMillis + 1));
    return new Payment(n * splits + split, user, amount, MERCHANTS[r.nextInt(MERCHANTS.length)],
        eventTime);
  }

  @Override
  public SourceReader<Payment> createReader(int split, int splits) {
    return new OffsetReader<>() {
      private long next;

      @Override
      public List<SourceRecord<Payment>> poll(int max) {
        if (next >= eventsPerSplit) {
          return null;
        }
        List<SourceRecord<Payment>> out = new ArrayList<>(max);
        while (out.size() < max && next < eventsPerSplit) {
          Payment p = event(split, splits, next++);
          out.add(new SourceRecord<>(p, p.timestamp()));
        }
        return out;
      }

      @Override
      public long offset() {
        return next;
      }

      @Override
      public void seek(long offset) {
        next = offset;
      }
    };
  }
}
