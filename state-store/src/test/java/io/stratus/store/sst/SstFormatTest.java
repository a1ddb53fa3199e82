package io.stratus.store.sst;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.store.keygroup.KeyGroupRange;
import io.stratus.store.keygroup.KeyGroups;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NoSuchElementException;
import java.util.Random;
import java.util.TreeMap;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/**
 * The SST file format end to end: what the writer writes the reader reads back, lookups and
 * iteration inside blocks, the Bloom filter, and corruption of any byte either detected with a
 * message naming file and offset or confined to the data block whose checksum catches it.
 */
class SstFormatTest {

  private static final String FILE = "000123.sst";
  private static final long[] SEEDS = {1, 2, 3, System.nanoTime()};

  /** A written file and the entries it was written from, by key. */
  private record Written(NavigableMap<byte[], SstEntry> entries, byte[] bytes,
      SstProperties properties, long seed) {

    String where() {
      return " (seed " + seed + ")";
    }
  }

  private static NavigableMap<byte[], SstEntry> randomEntries(Random random, int count) {
    NavigableMap<byte[], SstEntry> map = new TreeMap<>(Arrays::compareUnsigned);
    EntryKind[] kinds = EntryKind.values();
    while (map.size() < count) {
      byte[] key = randomKey(random);
      EntryKind kind = kinds[random.nextInt(kinds.length)];
      int valueLength = random.nextInt(50) == 0 ? 3000 : random.nextInt(120);
      byte[] value = new byte[valueLength];
      random.nextBytes(value);
      // The writer stores no value for a tombstone, whatever it is given.
      map.put(key, new SstEntry(key, kind, kind == EntryKind.DELETE ? new byte[0] : value));
    }
    return map;
  }

  /** Text suffixes share long prefixes (exercising prefix compression); binary ones use 0xFF. */
  private static byte[] randomKey(Random random) {
    byte[] suffix;
    if (random.nextBoolean()) {
      suffix = ("user-" + random.nextInt(100_000)).getBytes(StandardCharsets.UTF_8);
    } else {
      suffix = new byte[random.nextInt(12)];
      random.nextBytes(suffix);
    }
    byte[] key = new byte[2 + suffix.length];
    System.arraycopy(KeyGroups.prefix(random.nextInt(128)), 0, key, 0, 2);
    System.arraycopy(suffix, 0, key, 2, suffix.length);
    return key;
  }

  private static Written write(long seed, int count, int blockSize) {
    NavigableMap<byte[], SstEntry> entries = randomEntries(new Random(seed), count);
    SstWriter writer = new SstWriter(FILE, blockSize, 10, 1 << 16);
    Random values = new Random(seed + 1);
    for (SstEntry e : entries.values()) {
      byte[] given = e.kind() == EntryKind.DELETE ? new byte[values.nextInt(5)] : e.value();
      writer.add(e.key(), e.kind(), given);
    }
    assertEquals(count, writer.entryCount());
    SstWriter.Result result = writer.finish();
    return new Written(entries, result.bytes(), result.properties(), seed);
  }

  private static SstReader open(byte[] bytes, long metaOffset) {
    return SstReader.parse(FILE, bytes.length, metaOffset,
        Arrays.copyOfRange(bytes, (int) metaOffset, bytes.length));
  }

  private static byte[] storedBlock(SstReader reader, byte[] bytes, int block) {
    int offset = (int) reader.blockOffset(block);
    return Arrays.copyOfRange(bytes, offset, offset + reader.blockLength(block));
  }

  private static Block block(SstReader reader, byte[] bytes, int block) {
    return Block.verify(storedBlock(reader, bytes, block), FILE, reader.blockOffset(block));
  }

  private static List<SstEntry> entriesOf(Block block) {
    List<SstEntry> out = new ArrayList<>();
    Block.Iterator it = block.iterator(null);
    while (it.hasNext()) {
      out.add(it.next());
    }
    return out;
  }

  private static void assertEntry(SstEntry expected, SstEntry actual, String message) {
    assertNotNull(actual, message);
    assertArrayEquals(expected.key(), actual.key(), message);
    assertEquals(expected.kind(), actual.kind(), message);
    assertArrayEquals(expected.value(), actual.value(), message);
  }

  private static String hex(byte[] key) {
    return HexFormat.of().formatHex(key);
  }

  @Test
  void writtenEntriesReadBackInOrderWithTheirProperties() {
    for (long seed : SEEDS) {
      Written w = write(seed, 3000, 512);
      SstReader reader = open(w.bytes(), w.properties().metaOffset());
      SstProperties p = reader.properties();

      List<SstEntry> read = new ArrayList<>();
      long blockEnd = 0;
      for (int b = 0; b < reader.blockCount(); b++) {
        // Blocks tile the data region without gaps.
        assertEquals(blockEnd, reader.blockOffset(b), "block " + b + w.where());
        blockEnd += reader.blockLength(b);
        read.addAll(entriesOf(block(reader, w.bytes(), b)));
      }
      assertEquals(p.metaOffset(), blockEnd, w.where());
      List<SstEntry> expected = new ArrayList<>(w.entries().values());
      assertEquals(expected.size(), read.size(), w.where());
      for (int i = 0; i < expected.size(); i++) {
        assertEntry(expected.get(i), read.get(i), "entry " + i + w.where());
      }

      long deletes = expected.stream().filter(e -> e.kind() == EntryKind.DELETE).count();
      long merges = expected.stream().filter(e -> e.kind() == EntryKind.MERGE).count();
      assertTrue(deletes > 0 && merges > 0 && deletes + merges < expected.size(), w.where());
      assertTrue(reader.blockCount() > 50, reader.blockCount() + " blocks" + w.where());
      for (SstProperties q : List.of(p, w.properties())) {
        assertEquals(3000, q.entries(), w.where());
        assertEquals(deletes, q.deletes(), w.where());
        assertEquals(merges, q.merges(), w.where());
        assertEquals(reader.blockCount(), q.dataBlocks(), w.where());
        assertArrayEquals(w.entries().firstKey(), q.smallest(), w.where());
        assertArrayEquals(w.entries().lastKey(), q.largest(), w.where());
        assertEquals(KeyGroupRange.of(KeyGroups.keyGroupOfStateKey(w.entries().firstKey()),
            KeyGroups.keyGroupOfStateKey(w.entries().lastKey())), q.keyGroups(), w.where());
        assertEquals(w.bytes().length, q.fileSize(), w.where());
      }
      assertEquals(w.properties().metaOffset(), p.metaOffset(), w.where());
      assertEquals(FILE, reader.file());
      assertTrue(reader.pinnedBytes() > 0);
    }
  }

  @Test
  void findLocatesEveryKeyAndNothingBetweenThem() {
    for (long seed : SEEDS) {
      Written w = write(seed, 2000, 400);
      SstReader reader = open(w.bytes(), w.properties().metaOffset());
      List<Block> blocks = new ArrayList<>();
      for (int b = 0; b < reader.blockCount(); b++) {
        blocks.add(block(reader, w.bytes(), b));
      }
      for (SstEntry e : w.entries().values()) {
        String m = "key " + hex(e.key()) + w.where();
        int b = reader.blockFor(e.key());
        assertTrue(b < reader.blockCount(), m);
        assertEntry(e, blocks.get(b).find(e.key()), m);
        if (b > 0) {
          // The key is in exactly that block: the previous one ends below it.
          assertNull(blocks.get(b - 1).find(e.key()), m);
        }

        // key + 0x00 sorts right after key, so it is absent unless it is the next key.
        byte[] after = Arrays.copyOf(e.key(), e.key().length + 1);
        if (!w.entries().containsKey(after)) {
          int ab = reader.blockFor(after);
          assertEquals(expectedBlockFor(reader, blocks, after), ab, "after " + m);
          if (ab < blocks.size()) {
            assertNull(blocks.get(ab).find(after), "after " + m);
          }
        }
      }
      byte[] beyond = {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF};
      assertEquals(reader.blockCount(), reader.blockFor(beyond), w.where());
      assertEquals(0, reader.blockFor(new byte[] {0, 0}), w.where());
    }
  }

  /** The first block whose last key is >= key, by linear scan. */
  private static int expectedBlockFor(SstReader reader, List<Block> blocks, byte[] key) {
    for (int b = 0; b < blocks.size(); b++) {
      List<SstEntry> entries = entriesOf(blocks.get(b));
      if (Arrays.compareUnsigned(entries.get(entries.size() - 1).key(), key) >= 0) {
        return b;
      }
    }
    return reader.blockCount();
  }

  @Test
  void blockIteratorStartsAtTheFirstKeyAtOrAfterAnyProbe() {
    for (long seed : SEEDS) {
      Written w = write(seed, 2000, 700);
      SstReader reader = open(w.bytes(), w.properties().metaOffset());
      Random random = new Random(seed * 31);
      List<byte[]> keys = new ArrayList<>(w.entries().keySet());
      for (int i = 0; i < 600; i++) {
        byte[] probe = i % 3 == 0 ? keys.get(random.nextInt(keys.size())) : randomKey(random);
        String m = "probe " + hex(probe) + w.where();
        int b = reader.blockFor(probe);
        Map.Entry<byte[], SstEntry> ceiling = w.entries().ceilingEntry(probe);
        if (b == reader.blockCount()) {
          assertNull(ceiling, m);
          continue;
        }
        Block block = block(reader, w.bytes(), b);
        List<SstEntry> all = entriesOf(block);
        byte[] blockLast = all.get(all.size() - 1).key();
        List<SstEntry> expected = new ArrayList<>(
            w.entries().subMap(probe, true, blockLast, true).values());
        Block.Iterator it = block.iterator(probe);
        for (SstEntry e : expected) {
          assertTrue(it.hasNext(), m);
          assertEntry(e, it.next(), m);
        }
        assertFalse(it.hasNext(), m);
        assertThrows(NoSuchElementException.class, it::next, m);
        assertEntry(ceiling.getValue(), expected.get(0), m);
      }
      // A probe below a block's first key starts at that key; one above its last finds nothing.
      Block first = block(reader, w.bytes(), 0);
      assertEntry(w.entries().firstEntry().getValue(),
          first.iterator(new byte[] {0, 0}).next(), w.where());
      assertFalse(first.iterator(new byte[] {(byte) 0xFF, (byte) 0xFF, 1}).hasNext(), w.where());
    }
  }

  @Test
  void bloomFilterHasNoFalseNegativesAndAboutOnePercentFalsePositives() {
    long seed = SEEDS[3];
    Written w = write(seed, 20_000, 4096);
    SstReader reader = open(w.bytes(), w.properties().metaOffset());
    for (byte[] key : w.entries().keySet()) {
      assertTrue(reader.mayContain(key), "false negative for " + hex(key) + w.where());
      assertTrue(reader.mayContainHash(BloomFilter.hash(key)), w.where());
    }
    Random random = new Random(seed + 7);
    int probes = 0;
    int falsePositives = 0;
    while (probes < 100_000) {
      byte[] key = randomKey(random);
      if (w.entries().containsKey(key)) {
        continue;
      }
      probes++;
      if (reader.mayContain(key)) {
        falsePositives++;
      }
    }
    double rate = falsePositives / (double) probes;
    assertTrue(rate < 0.03, "false-positive rate " + rate + w.where());
  }

  @Test
  void everyCorruptedByteOfASmallFileIsDetected() {
    Written w = write(11, 40, 256);
    byte[] bytes = w.bytes();
    long metaOffset = w.properties().metaOffset();
    SstReader clean = open(bytes, metaOffset);
    assertTrue(clean.blockCount() >= 3, clean.blockCount() + " blocks");
    for (int position = 0; position < bytes.length; position++) {
      for (int mask : new int[] {0x01, 0x80, 0xFF}) {
        checkCorruption(bytes, metaOffset, clean, position, mask);
      }
    }
  }

  @Test
  void sampledCorruptedBytesOfALargeFileAreDetected() {
    long seed = SEEDS[3];
    Written w = write(seed, 5000, 4096);
    SstReader clean = open(w.bytes(), w.properties().metaOffset());
    Random random = new Random(seed);
    for (int i = 0; i < 2000; i++) {
      // Half of the sample in the tail, which is small but holds everything else.
      int position = i % 2 == 0 ? random.nextInt(w.bytes().length)
          : (int) w.properties().metaOffset()
              + random.nextInt(w.bytes().length - (int) w.properties().metaOffset());
      checkCorruption(w.bytes(), w.properties().metaOffset(), clean, position,
          1 + random.nextInt(255));
    }
  }

  /**
   * A flipped byte in the tail fails parsing with an offset at or before it; one in the data
   * region leaves parsing alone and fails the checksum of exactly the block that holds it.
   */
  private static void checkCorruption(byte[] original, long metaOffset, SstReader clean,
      int position, int mask) {
    byte[] bytes = original.clone();
    bytes[position] ^= (byte) mask;
    String m = "byte " + position + " ^ 0x" + Integer.toHexString(mask) + " of "
        + original.length + " (metaOffset " + metaOffset + ")";
    if (position >= metaOffset) {
      CorruptSstException e = assertThrows(CorruptSstException.class,
          () -> open(bytes, metaOffset), m);
      assertEquals(FILE, e.file(), m);
      assertTrue(e.offset() >= metaOffset && e.offset() <= position,
          m + ": reported offset " + e.offset());
      assertTrue(e.getMessage().contains(FILE) && e.getMessage().contains("offset " + e.offset()),
          m + ": " + e.getMessage());
      return;
    }
    SstReader reader = open(bytes, metaOffset);
    int hit = -1;
    for (int b = 0; b < reader.blockCount(); b++) {
      long offset = reader.blockOffset(b);
      if (position >= offset && position < offset + reader.blockLength(b)) {
        hit = b;
        int block = b;
        CorruptSstException e = assertThrows(CorruptSstException.class,
            () -> block(reader, bytes, block), m);
        assertEquals(offset, e.offset(), m);
        assertTrue(e.getMessage().contains(FILE) && e.getMessage().contains("offset " + offset),
            m + ": " + e.getMessage());
      } else {
        assertEquals(entriesOf(block(clean, original, b)).size(),
            entriesOf(block(reader, bytes, b)).size(), m);
      }
    }
    assertTrue(hit >= 0, m + " lies in no block");
  }

  @Test
  void truncatedFileIsReportedAsSuch() {
    Written w = write(5, 300, 512);
    byte[] bytes = w.bytes();
    long meta = w.properties().metaOffset();
    int tail = bytes.length - (int) meta;
    for (int cut : new int[] {1, 8, SstFormat.FOOTER_BYTES, tail - SstFormat.FOOTER_BYTES + 1,
        tail - 1}) {
      int size = bytes.length - cut;
      byte[] shortTail = Arrays.copyOfRange(bytes, (int) meta, size);
      CorruptSstException e = assertThrows(CorruptSstException.class,
          () -> SstReader.parse(FILE, size, meta, shortTail), "cut " + cut);
      assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("footer"),
          "cut " + cut + ": " + e.getMessage());
      assertTrue(e.getMessage().contains(FILE), e.getMessage());
    }
    // A data block cut short fails its checksum.
    SstReader reader = open(bytes, meta);
    byte[] block = storedBlock(reader, bytes, 1);
    CorruptSstException e = assertThrows(CorruptSstException.class,
        () -> Block.verify(Arrays.copyOf(block, block.length - 1), FILE, reader.blockOffset(1)));
    assertTrue(e.getMessage().contains("offset " + reader.blockOffset(1)), e.getMessage());
    assertThrows(CorruptSstException.class, () -> Block.verify(new byte[3], FILE, 0));
  }

  @Test
  void tailNotMatchingTheFileIsRejected() {
    Written w = write(6, 300, 512);
    byte[] bytes = w.bytes();
    int meta = (int) w.properties().metaOffset();
    byte[] tail = Arrays.copyOfRange(bytes, meta, bytes.length);
    // A stale metaOffset: the footer points before the tail it was given.
    byte[] later = Arrays.copyOfRange(bytes, meta + 1, bytes.length);
    CorruptSstException e = assertThrows(CorruptSstException.class,
        () -> SstReader.parse(FILE, bytes.length, meta + 1, later));
    assertTrue(e.getMessage().contains("outside the file's tail"), e.getMessage());
    e = assertThrows(CorruptSstException.class,
        () -> SstReader.parse(FILE, bytes.length + 10, meta, tail));
    assertTrue(e.getMessage().contains("footer"), e.getMessage());
  }

  @Test
  void badMagicIsReportedAtTheMagicsOffset() {
    Written w = write(7, 100, 512);
    byte[] bytes = w.bytes().clone();
    byte[] notSst = "NOTANSST".getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(notSst, 0, bytes, bytes.length - 8, 8);
    CorruptSstException e = assertThrows(CorruptSstException.class,
        () -> open(bytes, w.properties().metaOffset()));
    assertEquals(bytes.length - 8, e.offset());
    assertTrue(e.getMessage().contains("bad magic") && e.getMessage().contains(FILE),
        e.getMessage());
  }

  @Test
  void unsupportedFormatVersionIsReportedWithBothVersions() {
    Written w = write(8, 100, 512);
    byte[] bytes = w.bytes().clone();
    int footer = bytes.length - SstFormat.FOOTER_BYTES;
    writeInt(bytes, footer + 36, 2);
    // Re-sign the footer so the version, not the checksum, is what the reader trips on.
    CRC32C crc = new CRC32C();
    crc.update(bytes, footer, 40);
    writeInt(bytes, footer + 40, (int) crc.getValue());
    CorruptSstException e = assertThrows(CorruptSstException.class,
        () -> open(bytes, w.properties().metaOffset()));
    assertTrue(e.getMessage().contains("format version 2 is not supported")
        && e.getMessage().contains("reads " + SstFormat.FORMAT_VERSION), e.getMessage());
    assertEquals(footer, e.offset());
  }

  private static void writeInt(byte[] b, int at, int v) {
    b[at] = (byte) (v >>> 24);
    b[at + 1] = (byte) (v >>> 16);
    b[at + 2] = (byte) (v >>> 8);
    b[at + 3] = (byte) v;
  }

  @Test
  void writerRejectsUnsortedDuplicateAndShortKeys() {
    SstWriter writer = new SstWriter(FILE, 256, 10, 1024);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> writer.add(new byte[] {0}, EntryKind.PUT, new byte[0]));
    assertTrue(e.getMessage().contains("2-byte key group"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> writer.add(new byte[0], EntryKind.PUT, new byte[0]));

    writer.add(new byte[] {0, 1, 0x7F}, EntryKind.PUT, new byte[] {1});
    // Keys compare as unsigned bytes: 0x80 comes after 0x7F.
    writer.add(new byte[] {0, 1, (byte) 0x80}, EntryKind.PUT, new byte[] {2});
    for (byte[] bad : List.of(new byte[] {0, 1, (byte) 0x80}, new byte[] {0, 1, 0x7F},
        new byte[] {0, 1})) {
      e = assertThrows(IllegalArgumentException.class,
          () -> writer.add(bad, EntryKind.PUT, new byte[0]), hex(bad));
      assertTrue(e.getMessage().contains("strictly increasing") && e.getMessage().contains(FILE),
          e.getMessage());
    }
    // Rejected keys left no trace.
    assertEquals(2, writer.entryCount());
    SstWriter.Result result = writer.finish();
    SstReader reader = open(result.bytes(), result.properties().metaOffset());
    assertEquals(2, reader.properties().entries());
    assertEquals(2, entriesOf(block(reader, result.bytes(), 0)).size());

    IllegalStateException empty = assertThrows(IllegalStateException.class,
        () -> new SstWriter("empty.sst", 256, 10, 16).finish());
    assertTrue(empty.getMessage().contains("empty.sst"), empty.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new SstWriter(FILE, 255, 10, 16));
    assertThrows(IllegalArgumentException.class, () -> new SstWriter(FILE, 256, 0, 16));
  }

  @Test
  void encodingsRoundTripAtTheirLimits() {
    long[] longs = {0, 1, 127, 128, 16_383, 16_384, Integer.MAX_VALUE, 1L << 35, Long.MAX_VALUE};
    ByteArrayBuilder out = new ByteArrayBuilder(0);
    for (long v : longs) {
      out.writeVarLong(v).writeLong(v).writeInt((int) v);
    }
    out.writeLengthPrefixed(new byte[] {9, 8, 7}).writeLengthPrefixed(new byte[0]);
    byte[] bytes = out.toByteArray();
    ByteReader in = new ByteReader(bytes, 0, bytes.length);
    for (long v : longs) {
      assertEquals(v, in.readVarLong());
      assertEquals(v, in.readLong());
      assertEquals((int) v, in.readInt());
    }
    assertArrayEquals(new byte[] {9, 8, 7}, in.readLengthPrefixed());
    assertArrayEquals(new byte[0], in.readLengthPrefixed());
    assertFalse(in.hasRemaining());
    assertThrows(IndexOutOfBoundsException.class, in::readByte);

    assertThrows(IllegalArgumentException.class, () -> new ByteArrayBuilder(4).writeVarLong(-1));
    byte[] big = new ByteArrayBuilder(4).writeVarLong(1L << 31).toByteArray();
    assertThrows(IllegalStateException.class,
        () -> new ByteReader(big, 0, big.length).readVarInt());
    byte[] endless = new byte[11];
    Arrays.fill(endless, (byte) 0x80);
    assertThrows(IllegalStateException.class,
        () -> new ByteReader(endless, 0, endless.length).readVarLong());
    // A length prefix larger than what is left must not allocate or read past the slice.
    byte[] lying = new ByteArrayBuilder(4).writeVarLong(1000).writeByte(1).toByteArray();
    assertThrows(IndexOutOfBoundsException.class,
        () -> new ByteReader(lying, 0, lying.length).readLengthPrefixed());
    assertThrows(IndexOutOfBoundsException.class, () -> new ByteReader(new byte[4], 3, 2));
  }
}
