package io.stratus.bench.jmh;

import io.stratus.bench.BenchKeys;
import io.stratus.store.keygroup.KeyGroups;
import io.stratus.store.sst.Block;
import io.stratus.store.sst.EntryKind;
import io.stratus.store.sst.SstEntry;
import io.stratus.store.sst.SstReader;
import io.stratus.store.sst.SstWriter;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The hot paths under a point read: key-group hashing, a Bloom probe, finding the block in the
 * index, verifying a 16 KiB block's CRC32C (done once per load) and finding a key in a block
 * (done per read).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
public class FormatBenchmark {

  private static final int KEYS = 100_000;

  private byte[][] keys;
  private SstReader reader;
  private byte[][] blocks;
  private final SplittableRandom random = new SplittableRandom(1);

  @Setup
  public void setUp() {
    keys = new byte[KEYS][];
    for (int i = 0; i < KEYS; i++) {
      keys[i] = BenchKeys.key(i, 128);
    }
    byte[][] sorted = keys.clone();
    Arrays.sort(sorted, Arrays::compareUnsigned);
    SstWriter writer = new SstWriter("bench.sst", 16 << 10, 10, 16 << 20);
    for (byte[] k : sorted) {
      writer.add(k, EntryKind.PUT, BenchKeys.value(k[3], 0));
    }
    SstWriter.Result result = writer.finish();
    byte[] file = result.bytes();
    long meta = result.properties().metaOffset();
    reader = SstReader.parse("bench.sst", file.length, meta,
        Arrays.copyOfRange(file, (int) meta, file.length));
    blocks = new byte[reader.blockCount()][];
    for (int b = 0; b < blocks.length; b++) {
      int off = (int) reader.blockOffset(b);
      blocks[b] = Arrays.copyOfRange(file, off, off + reader.blockLength(b));
    }
  }

  private byte[] randomKey() {
    return keys[random.nextInt(KEYS)];
  }

  @Benchmark
  public int keyGroupHash() {
    return KeyGroups.keyGroupOf(randomKey(), 128);
  }

  @Benchmark
  public boolean bloomProbe() {
    return reader.mayContain(randomKey());
  }

  @Benchmark
  public int indexLookup() {
    return reader.blockFor(randomKey());
  }

  @Benchmark
  public int blockVerifyCrc() {
    return Block.verifiedPayloadLength(blocks[random.nextInt(blocks.length)], "bench.sst", 0);
  }

  @Benchmark
  public SstEntry blockFind() {
    byte[] key = randomKey();
    int b = reader.blockFor(key);
    return Block.ofVerified(blocks[b], "bench.sst", reader.blockOffset(b)).find(key);
  }
}
