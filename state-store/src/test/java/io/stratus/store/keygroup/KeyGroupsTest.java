package io.stratus.store.keygroup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Key-group arithmetic: the hash, the key-group ranges of subtasks, and the range type. */
class KeyGroupsTest {

  @Test
  void subtaskRangesPartitionTheKeyGroupsAndAgreeWithSubtaskOf() {
    int[] maxParallelisms = {1, 2, 3, 7, 10, 128, 129, 1000, 4096, KeyGroupRange.MAX_KEY_GROUPS};
    for (int max : maxParallelisms) {
      for (int parallelism : parallelisms(max)) {
        String m = "maxParallelism " + max + ", parallelism " + parallelism;
        int next = 0;
        for (int index = 0; index < parallelism; index++) {
          KeyGroupRange range = KeyGroupRange.forSubtask(max, parallelism, index);
          // Contiguous and disjoint: each range starts where the previous one ended.
          assertEquals(next, range.start(), m + ", subtask " + index);
          assertFalse(range.isEmpty(), m + ", subtask " + index);
          for (int g = range.start(); g <= range.end(); g++) {
            if (KeyGroups.subtaskOf(g, max, parallelism) != index) {
              throw new AssertionError(m + ": key group " + g + " lies in the range " + range
                  + " of subtask " + index + " but subtaskOf says "
                  + KeyGroups.subtaskOf(g, max, parallelism));
            }
          }
          // Ranges differ in size by at most one.
          int size = range.size();
          assertTrue(size == max / parallelism || size == max / parallelism + 1, m);
          next = range.end() + 1;
        }
        // Covering: the last range ends at the last key group.
        assertEquals(max, next, m);
      }
    }
  }

  private static List<Integer> parallelisms(int max) {
    if (max <= 130) {
      return java.util.stream.IntStream.rangeClosed(1, max).boxed().toList();
    }
    return java.util.stream.IntStream.of(1, 2, 3, 5, 7, 64, 100, 127, max / 2, max - 1, max)
        .boxed().toList();
  }

  @Test
  void forSubtaskAndCheckParallelismValidateTheirArguments() {
    assertMessage(() -> KeyGroupRange.forSubtask(128, 4, 4), "subtask index 4 outside [0, 4)");
    assertMessage(() -> KeyGroupRange.forSubtask(128, 4, -1), "subtask index -1");
    assertMessage(() -> KeyGroupRange.forSubtask(128, 129, 0), "parallelism must be in [1, 128]");
    assertMessage(() -> KeyGroupRange.forSubtask(128, 0, 0), "was 0");
    assertMessage(() -> KeyGroups.checkParallelism(0, 1), "maxParallelism must be in [1, 32768]");
    assertMessage(() -> KeyGroups.checkParallelism(32769, 1), "was 32769");
  }

  private static void assertMessage(Runnable call, String expected) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }

  /**
   * Reference values of MurmurHash3_x86_32 (the published ones, and more computed with an
   * independent implementation that reproduces them).
   */
  @Test
  void murmur3MatchesTheReferenceVectors() {
    assertHash(0, "", 0);
    assertHash(0x514E28B7, "", 1);
    assertHash(0x81F16F39, "", 0xFFFFFFFF);
    assertHash(0x248BFA47, "hello", 0);
    assertHash(0x2E4FF723, "The quick brown fox jumps over the lazy dog", 0);
    assertHash(0x24884CBA, "Hello, world!", 0x9747B28C);
    assertHash(0xB3DD93FA, "abc", 0);
    assertHash(0x5A97808A, "aaaa", 0x9747B28C);
    assertHash(0xF0478627, "abcd", 0x9747B28C);
    // Bytes with the high bit set, in the 4-byte body and in each tail length.
    assertHashBytes(0x76293B50, new byte[] {-1, -1, -1, -1}, 0);
    assertHashBytes(0xF55B516B, new byte[] {0x21, 0x43, 0x65, (byte) 0x87}, 0);
    assertHashBytes(0x7E4A8634, new byte[] {0x21, 0x43, 0x65}, 0);
    assertHashBytes(0xA0F7B07A, new byte[] {0x21, 0x43}, 0);
    assertHashBytes(0x72661CF4, new byte[] {0x21}, 0);
    assertHashBytes(0xFD6CF10D, new byte[] {-1}, 0);
    assertHashBytes(0x8619621F, new byte[] {-1, -1}, 0);
    assertHashBytes(0xBF12A026, new byte[] {-1, -1, -1}, 0);
    assertHashBytes(0xF83E4333, new byte[] {1, 2, 3, 4, (byte) 0x80}, 0);
    assertHashBytes(0x2ADE2E09, new byte[] {1, 2, 3, 4, (byte) 0x80, (byte) 0x90}, 0);
    assertHashBytes(0x308D916F, new byte[] {1, 2, 3, 4, (byte) 0x80, (byte) 0x90, (byte) 0xA0}, 0);
    assertHash(0x97F7F274, "h\u00e9llo w\u00f6rld", 0);
    assertHashBytes(0x2362F9DE, new byte[] {0, 0, 0, 0}, 0);
    assertHashBytes(0x514E28B7, new byte[] {0}, 0);
  }

  private static void assertHash(int expected, String input, int seed) {
    assertHashBytes(expected, input.getBytes(StandardCharsets.UTF_8), seed);
  }

  private static void assertHashBytes(int expected, byte[] input, int seed) {
    assertEquals(expected, Murmur3.hash32(input, 0, input.length, seed),
        () -> Arrays.toString(input) + " seed " + Integer.toHexString(seed));
  }

  @Test
  void murmur3OfASliceEqualsMurmur3OfItsCopy() {
    Random random = new Random(99);
    byte[] buffer = new byte[64];
    random.nextBytes(buffer);
    for (int offset = 0; offset < 8; offset++) {
      for (int length = 0; length + offset <= buffer.length; length++) {
        byte[] copy = Arrays.copyOfRange(buffer, offset, offset + length);
        assertEquals(Murmur3.hash32(copy, 0, length, 42),
            Murmur3.hash32(buffer, offset, length, 42), "offset " + offset + " length " + length);
      }
    }
  }

  @Test
  void keyGroupsOfManyKeysAreEvenAndInRange() {
    int groups = 128;
    int keys = 100_000;
    int[] counts = new int[groups];
    for (int i = 0; i < keys; i++) {
      counts[KeyGroups.keyGroupOf(("user-" + i).getBytes(StandardCharsets.UTF_8), groups)]++;
    }
    double mean = keys / (double) groups;
    double chiSquare = 0;
    for (int g = 0; g < groups; g++) {
      assertTrue(Math.abs(counts[g] - mean) < mean * 0.2, "group " + g + " has " + counts[g]);
      chiSquare += (counts[g] - mean) * (counts[g] - mean) / mean;
    }
    // 127 degrees of freedom: 200 is far out in the tail (p < 0.0001) of a uniform hash.
    assertTrue(chiSquare < 200, "chi-square " + chiSquare);

    // Negative hashes must not produce negative groups when maxParallelism is no power of 2.
    for (int i = 0; i < 10_000; i++) {
      int g = KeyGroups.keyGroupOf(("k" + i).getBytes(StandardCharsets.UTF_8), 100);
      assertTrue(g >= 0 && g < 100, "key group " + g);
    }
  }

  @Test
  void stateKeyPrefixRoundTripsEveryKeyGroup() {
    for (int g = 0; g < KeyGroupRange.MAX_KEY_GROUPS; g++) {
      byte[] key = Arrays.copyOf(KeyGroups.prefix(g), 5);
      assertEquals(g, KeyGroups.keyGroupOfStateKey(key));
    }
    // Prefixes sort like their key groups, so a key-group range is a key range.
    assertTrue(Arrays.compareUnsigned(KeyGroups.prefix(255), KeyGroups.prefix(256)) < 0);
    assertThrows(IllegalArgumentException.class, () -> KeyGroups.keyGroupOfStateKey(new byte[1]));
  }

  @Test
  void emptyRangesAreNormalizedAndContainNothing() {
    KeyGroupRange empty = KeyGroupRange.of(10, 9);
    assertEquals(KeyGroupRange.EMPTY, empty);
    assertEquals(KeyGroupRange.EMPTY, KeyGroupRange.of(-5, -10));
    assertTrue(empty.isEmpty());
    assertEquals(0, empty.size());
    assertFalse(empty.contains(0));
    assertFalse(empty.contains(-1));
    assertEquals("[]", empty.toString());
    assertTrue(KeyGroupRange.of(3, 5).contains(empty));
    assertTrue(empty.contains(empty));
    assertFalse(empty.contains(KeyGroupRange.of(0, 0)));
    assertFalse(empty.overlaps(KeyGroupRange.all(128)));
    // As a key range it is empty too: [first, endExclusive) with first == endExclusive.
    assertArrayEquals(empty.firstKey(), empty.endKeyExclusive());
  }

  @Test
  void intersectContainsAndOverlaps() {
    KeyGroupRange a = KeyGroupRange.of(10, 20);
    assertEquals(KeyGroupRange.of(15, 20), a.intersect(KeyGroupRange.of(15, 30)));
    assertEquals(KeyGroupRange.of(10, 20), a.intersect(KeyGroupRange.all(128)));
    assertEquals(KeyGroupRange.of(20, 20), a.intersect(KeyGroupRange.of(20, 25)));
    assertTrue(a.intersect(KeyGroupRange.of(21, 30)).isEmpty());
    assertTrue(a.intersect(KeyGroupRange.EMPTY).isEmpty());
    assertTrue(a.overlaps(KeyGroupRange.of(0, 10)));
    assertFalse(a.overlaps(KeyGroupRange.of(0, 9)));
    assertTrue(a.contains(10) && a.contains(20) && !a.contains(9) && !a.contains(21));
    assertTrue(a.contains(KeyGroupRange.of(10, 20)));
    assertFalse(a.contains(KeyGroupRange.of(9, 20)));
    assertFalse(a.contains(KeyGroupRange.of(10, 21)));
    assertEquals(11, a.size());
    assertEquals("[10, 20]", a.toString());
  }

  @Test
  void keyBoundsCoverExactlyTheRangesKeys() {
    KeyGroupRange r = KeyGroupRange.of(0x0102, 0x01FF);
    assertArrayEquals(new byte[] {1, 2}, r.firstKey());
    assertArrayEquals(new byte[] {2, 0}, r.endKeyExclusive());
    assertTrue(r.containsKey(new byte[] {1, 2}));
    assertTrue(r.containsKey(new byte[] {1, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF}));
    assertFalse(r.containsKey(new byte[] {2, 0}));
    assertFalse(r.containsKey(new byte[] {1, 1, (byte) 0xFF}));
    KeyGroupRange last = KeyGroupRange.of(5, KeyGroupRange.MAX_KEY_GROUPS - 1);
    assertNull(last.endKeyExclusive(), "no key after the last key group");
    assertArrayEquals(new byte[] {0x7F, (byte) 0xFF},
        KeyGroupRange.of(0, KeyGroupRange.MAX_KEY_GROUPS - 2).endKeyExclusive());
  }

  @Test
  void rangesOutsideTheKeyGroupSpaceAreRejectedWithTheLimits() {
    assertMessage(() -> KeyGroupRange.of(-1, 3), "[-1, 3] must lie within [0, 32767]");
    assertMessage(() -> KeyGroupRange.of(0, KeyGroupRange.MAX_KEY_GROUPS),
        "[0, 32768] must lie within [0, 32767]");
    assertEquals(KeyGroupRange.MAX_KEY_GROUPS, KeyGroupRange.all(KeyGroupRange.MAX_KEY_GROUPS)
        .size());
  }

  @Test
  void jacksonRoundTripsRangesIncludingTheEmptyOne() throws Exception {
    ObjectMapper mapper = new ObjectMapper();
    for (KeyGroupRange r : List.of(KeyGroupRange.of(3, 9), KeyGroupRange.of(0, 0),
        KeyGroupRange.all(KeyGroupRange.MAX_KEY_GROUPS), KeyGroupRange.EMPTY)) {
      String json = mapper.writeValueAsString(r);
      assertEquals(r, mapper.readValue(json, KeyGroupRange.class), json);
    }
    assertEquals("{\"start\":3,\"end\":9}", mapper.writeValueAsString(KeyGroupRange.of(3, 9)));
    assertEquals(KeyGroupRange.EMPTY,
        mapper.readValue("{\"start\":9,\"end\":3}", KeyGroupRange.class));
    ValueInstantiationException e = assertThrows(ValueInstantiationException.class,
        () -> mapper.readValue("{\"start\":-1,\"end\":3}", KeyGroupRange.class));
    assertTrue(e.getMessage().contains("must lie within"), e.getMessage());
  }
}
