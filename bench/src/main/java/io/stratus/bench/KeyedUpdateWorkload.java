package io.stratus.bench;

import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The keyed update workload of the side-by-side with Flink and of the state-size scaling, one
 * definition for every contender: record {@code n} updates key {@code n} while
 * {@code n < keys} (every key is created once), then a key drawn from the distribution:
 * {@code uniform}, {@code zipfian} (s = 0.99, hot keys scattered over the key space) or
 * {@code recent} (a hot set: 90% of records update one of the 10% of keys just behind a head
 * that advances one key per 200 records, so the set drifts slowly; the rest uniform). Each
 * update reads the key's 100-byte value and writes a new one. After {@code records} records
 * each contender's source slows to one record per 10 ms (without blocking a thread that others
 * need), so a job keeps running for the checkpoint and the restore without loading the machine.
 *
 * @param keys         distinct keys
 * @param records      records of the measured phase
 * @param distribution {@code uniform}, {@code zipfian} or {@code recent}, after the creation
 *                     phase
 * @param parallelism  keyed parallelism of the measured phase
 * @param restoreTo    keyed parallelism after the restore
 * @param intervalMs   checkpoint interval
 * @param cacheMiB     the memory budget for state caches, whole job
 */
public record KeyedUpdateWorkload(long keys, long records, String distribution,
    int parallelism, int restoreTo, long intervalMs, long cacheMiB) implements Serializable {

  /** The distributions {@link KeyGenerator} draws from. */
  public static final List<String> DISTRIBUTIONS = List.of("uniform", "zipfian", "recent");

  public KeyedUpdateWorkload {
    checkDistribution(distribution);
  }

  /** Refuses a distribution {@link KeyGenerator} does not know, naming the ones it does. */
  public static void checkDistribution(String distribution) {
    if (!DISTRIBUTIONS.contains(distribution)) {
      throw new IllegalArgumentException("unknown key distribution '" + distribution
          + "': use one of " + DISTRIBUTIONS);
    }
  }

  /** Reads the workload from {@code --keys --records --distribution --parallelism ...}. */
  public static KeyedUpdateWorkload parse(Map<String, String> a) {
    return new KeyedUpdateWorkload(Long.parseLong(a.getOrDefault("--keys", "1000000")),
        Long.parseLong(a.getOrDefault("--records", "3000000")),
        a.getOrDefault("--distribution", "uniform"),
        Integer.parseInt(a.getOrDefault("--parallelism", "2")),
        Integer.parseInt(a.getOrDefault("--restore-parallelism", "3")),
        Long.parseLong(a.getOrDefault("--interval-ms", "2000")),
        Long.parseLong(a.getOrDefault("--cache-mib", "256")));
  }

  /** The command-line form {@link #parse} reads. */
  public String[] toArgs() {
    return new String[] {"--keys", String.valueOf(keys), "--records", String.valueOf(records),
        "--distribution", distribution, "--parallelism",
        String.valueOf(parallelism), "--restore-parallelism", String.valueOf(restoreTo),
        "--interval-ms", String.valueOf(intervalMs), "--cache-mib", String.valueOf(cacheMiB)};
  }

  /** Turns sequence numbers into keys; one per source task (it keeps a random state). */
  public KeyGenerator keyGenerator() {
    return new KeyGenerator(this);
  }

  /** Record {@code n}'s key. */
  public static final class KeyGenerator implements Serializable {
    private final KeyedUpdateWorkload workload;
    private transient ZipfianGenerator zipf;
    private transient SplittableRandom random;

    KeyGenerator(KeyedUpdateWorkload workload) {
      this.workload = workload;
    }

    public long keyOf(long n) {
      if (n < workload.keys) {
        return n;
      }
      if (workload.distribution.equals("zipfian")) {
        if (zipf == null) {
          zipf = new ZipfianGenerator(workload.keys, 0.99, 42, true);
        }
        return zipf.next();
      }
      if (random == null) {
        random = new SplittableRandom(42);
      }
      if (workload.distribution.equals("recent") && random.nextInt(10) < 9) {
        long head = n / 200;
        return Math.floorMod(head - random.nextLong(Math.max(1, workload.keys / 10)),
            workload.keys);
      }
      return random.nextLong(workload.keys);
    }
  }
}
