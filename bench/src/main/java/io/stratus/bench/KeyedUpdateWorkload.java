package io.stratus.bench;

import java.io.Serializable;
import java.util.Map;

/**
 * The keyed update workload of the side-by-side with Flink, one definition for every contender:
 * record {@code n} updates key {@code n} while {@code n < keys} (every key is created once),
 * then a uniform or Zipfian (s = 0.99) key; each update reads the key's 100-byte value and
 * writes a new one. After {@code records} records each contender's source slows to one record
 * per 10 ms (without blocking a thread that others need), so a job keeps running for the
 * checkpoint and the restore without loading the machine.
 *
 * @param keys         distinct keys
 * @param records      records of the measured phase
 * @param zipfian      Zipfian keys after the creation phase (else uniform)
 * @param parallelism  keyed parallelism of the measured phase
 * @param restoreTo    keyed parallelism after the restore
 * @param intervalMs   checkpoint interval
 * @param cacheMiB     the memory budget for state caches, whole job
 */
public record KeyedUpdateWorkload(long keys, long records, boolean zipfian, int parallelism,
    int restoreTo, long intervalMs, long cacheMiB) implements Serializable {

  /** Reads the workload from {@code --keys --records --distribution --parallelism ...}. */
  public static KeyedUpdateWorkload parse(Map<String, String> a) {
    return new KeyedUpdateWorkload(Long.parseLong(a.getOrDefault("--keys", "1000000")),
        Long.parseLong(a.getOrDefault("--records", "3000000")),
        a.getOrDefault("--distribution", "uniform").equals("zipfian"),
        Integer.parseInt(a.getOrDefault("--parallelism", "2")),
        Integer.parseInt(a.getOrDefault("--restore-parallelism", "3")),
        Long.parseLong(a.getOrDefault("--interval-ms", "2000")),
        Long.parseLong(a.getOrDefault("--cache-mib", "256")));
  }

  /** The command-line form {@link #parse} reads. */
  public String[] toArgs() {
    return new String[] {"--keys", String.valueOf(keys), "--records", String.valueOf(records),
        "--distribution", zipfian ? "zipfian" : "uniform", "--parallelism",
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
    private transient java.util.SplittableRandom uniform;

    KeyGenerator(KeyedUpdateWorkload workload) {
      this.workload = workload;
    }

    public long keyOf(long n) {
      if (n < workload.keys) {
        return n;
      }
      if (workload.zipfian) {
        if (zipf == null) {
          zipf = new ZipfianGenerator(workload.keys, 0.99, 42, true);
        }
        return zipf.next();
      }
      if (uniform == null) {
        uniform = new java.util.SplittableRandom(42);
      }
      return uniform.nextLong(workload.keys);
    }
  }
}
