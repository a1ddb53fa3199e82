package io.stratus.runtime.serde;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.runtime.functions.Collector;
import io.stratus.runtime.functions.KeyedProcessFunction;
import io.stratus.runtime.serde.BytesOut;
import io.stratus.runtime.serde.BytesIn;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.Test;

class SerdesTest {

  private static <T> T roundTrip(Serde<T> serde, T value) {
    return serde.fromBytes(serde.toBytes(value));
  }

  @Test
  void builtInsRoundTrip() {
    for (long v : new long[] {0, 1, -1, Long.MIN_VALUE, Long.MAX_VALUE, 1L << 40}) {
      assertEquals(v, roundTrip(Serdes.LONG, v));
    }
    for (int v : new int[] {0, 1, -1, Integer.MIN_VALUE, Integer.MAX_VALUE, 300}) {
      assertEquals(v, roundTrip(Serdes.INT, v));
    }
    for (double v : new double[] {0.0, -0.0, 1.5, -1e300, Double.MIN_VALUE,
        Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN}) {
      // Compared by bits: -0.0 and NaN must survive exactly.
      assertEquals(Double.doubleToRawLongBits(v),
          Double.doubleToRawLongBits(roundTrip(Serdes.DOUBLE, v)), String.valueOf(v));
    }
    assertEquals(true, roundTrip(Serdes.BOOLEAN, true));
    assertEquals(false, roundTrip(Serdes.BOOLEAN, false));
    for (String v : List.of("", "a", "ü€😀", "x".repeat(70_000))) {
      assertEquals(v, roundTrip(Serdes.STRING, v));
    }
    for (byte[] v : List.of(new byte[0], new byte[] {0, -1, 127, -128},
        new byte[200])) {
      assertArrayEquals(v, roundTrip(Serdes.BYTES, v));
    }
  }

  /** Keys must sort like numbers when compared as unsigned bytes (non-negative values). */
  @Test
  void nonNegativeNumbersEncodeInNumericOrder() {
    long[] values = {0, 1, 255, 256, 65_535, 1L << 32, Long.MAX_VALUE};
    for (int i = 1; i < values.length; i++) {
      assertTrue(Arrays.compareUnsigned(Serdes.LONG.toBytes(values[i - 1]),
          Serdes.LONG.toBytes(values[i])) < 0, values[i - 1] + " vs " + values[i]);
    }
    assertTrue(Arrays.compareUnsigned(Serdes.INT.toBytes(255), Serdes.INT.toBytes(256)) < 0);
  }

  @Test
  void nullableWrapsNullAndValues() {
    Serde<String> s = Serdes.nullable(Serdes.STRING);
    assertNull(roundTrip(s, null));
    assertEquals("", roundTrip(s, ""));
    assertEquals("x", roundTrip(s, "x"));
    assertEquals(1, s.toBytes(null).length);
    assertThrows(NullPointerException.class, () -> Serdes.STRING.toBytes(null),
        "the plain serde does not take null");
  }

  @Test
  void listsRoundTrip() {
    Serde<List<Long>> longs = Serdes.listOf(Serdes.LONG);
    assertEquals(List.of(), roundTrip(longs, List.of()));
    List<Long> many = new ArrayList<>();
    for (long i = 0; i < 2000; i++) {
      many.add(i * i - 5);
    }
    assertEquals(many, roundTrip(longs, many), "more than one varint byte of count");

    Serde<List<List<String>>> nested = Serdes.listOf(Serdes.listOf(Serdes.STRING));
    List<List<String>> value = List.of(List.of("a", ""), List.of(), List.of("ü"));
    assertEquals(value, roundTrip(nested, value));

    Serde<List<String>> withNulls = Serdes.listOf(Serdes.nullable(Serdes.STRING));
    List<String> holes = Arrays.asList("a", null, "", null);
    assertEquals(holes, roundTrip(withNulls, holes));
  }

  @Test
  void valuesWrittenBackToBackReadBackInOrder() {
    BytesOut out = new BytesOut(16);
    Serdes.STRING.write("ab", out);
    Serdes.LONG.write(7L, out);
    Serdes.BYTES.write(new byte[] {1, 2}, out);
    byte[] bytes = out.toByteArray();
    BytesIn in = new BytesIn(bytes, 0, bytes.length);
    assertEquals("ab", Serdes.STRING.read(in));
    assertEquals(7L, Serdes.LONG.read(in));
    assertArrayEquals(new byte[] {1, 2}, Serdes.BYTES.read(in));
    assertTrue(!in.hasRemaining());
  }

  // ---------------------------------------------------------------------------------- records

  enum Color { RED, GREEN, BLUE }

  record Point(int x, int y) {}

  record Shape(String name, Color color, Point origin, byte[] data, long id, Long optional,
      double weight, boolean visible, Integer count, Double ratio, Boolean flag) {

    // Records compare arrays by identity; tests compare contents.
    @Override
    public boolean equals(Object o) {
      return o instanceof Shape s && Objects.equals(name, s.name) && color == s.color
          && Objects.equals(origin, s.origin) && Arrays.equals(data, s.data) && id == s.id
          && Objects.equals(optional, s.optional) && Double.compare(weight, s.weight) == 0
          && visible == s.visible && Objects.equals(count, s.count)
          && Objects.equals(ratio, s.ratio) && Objects.equals(flag, s.flag);
    }

    @Override
    public int hashCode() {
      return Objects.hash(name, color, origin, id);
    }
  }

  record Group(String label, Shape main, Point corner) {}

  @Test
  void recordsWithNestedRecordsEnumsBytesAndNullsRoundTrip() {
    Serde<Shape> serde = Serdes.record(Shape.class);
    Shape full = new Shape("square", Color.BLUE, new Point(-3, 4), new byte[] {9, 8},
        Long.MIN_VALUE, 42L, 2.5, true, 7, 0.25, false);
    assertEquals(full, roundTrip(serde, full));
    Shape nulls = new Shape(null, null, null, null, 0, null, 0, false, null, null, null);
    assertEquals(nulls, roundTrip(serde, nulls));

    Serde<Group> groups = Serdes.record(Group.class);
    Group g = new Group("g", full, new Point(1, 2));
    Group back = roundTrip(groups, g);
    assertEquals(g.label(), back.label());
    assertEquals(full, back.main());
    assertEquals(new Point(1, 2), back.corner());
    Group empty = roundTrip(groups, new Group(null, null, null));
    assertNull(empty.main());
    assertNull(empty.corner());

    assertEquals(List.of(new Point(1, 2), new Point(3, 4)),
        roundTrip(Serdes.listOf(Serdes.record(Point.class)),
            List.of(new Point(1, 2), new Point(3, 4))));
  }

  @Test
  void anUnknownEnumOrdinalIsReportedNotGuessed() {
    record Paint(Color color) {}
    Serde<Paint> serde = Serdes.record(Paint.class);
    byte[] bytes = serde.toBytes(new Paint(Color.RED));
    bytes[bytes.length - 1] = 7; // ordinal 7 of a three-constant enum
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> serde.fromBytes(bytes));
    assertTrue(e.getMessage().contains("Color") && e.getMessage().contains("7"),
        e.getMessage());
  }

  @Test
  void leftoverBytesAreAnError() {
    byte[] twelve = new byte[12];
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Serdes.LONG.fromBytes(twelve));
    assertTrue(e.getMessage().contains("4 of 12 bytes unread"), e.getMessage());

    byte[] pointThenMore = Arrays.copyOf(Serdes.record(Point.class).toBytes(new Point(1, 2)),
        9);
    assertThrows(IllegalArgumentException.class,
        () -> Serdes.record(Point.class).fromBytes(pointThenMore));
  }

  record WithInstant(String name, java.time.Instant at) {}

  record Outer(long id, WithInstant inner) {}

  @Test
  void anUnsupportedComponentTypeIsNamedWithItsPlace() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Serdes.record(WithInstant.class));
    assertTrue(e.getMessage().contains("java.time.Instant")
        && e.getMessage().contains("WithInstant.at")
        && e.getMessage().contains("supported:"), e.getMessage());

    IllegalArgumentException nested = assertThrows(IllegalArgumentException.class,
        () -> Serdes.record(Outer.class));
    assertTrue(nested.getMessage().contains("WithInstant.at"), nested.getMessage());
  }

  record Tally(String name, Map<String, Long> counts, List<List<Integer>> rows,
      Map<Long, List<String>> byId) {}

  @Test
  void listsAndMapsOfSupportedTypesRoundTripInRecordsAndAlone() {
    Tally t = new Tally("t", new java.util.LinkedHashMap<>(Map.of("a", 1L)),
        List.of(List.of(1, 2), List.of()), new java.util.LinkedHashMap<>(Map.of(7L,
            List.of("x", "y"))));
    Serde<Tally> serde = Serdes.record(Tally.class);
    assertEquals(t, serde.fromBytes(serde.toBytes(t)));
    Tally withNulls = new Tally(null, null, null, null);
    assertEquals(withNulls, serde.fromBytes(serde.toBytes(withNulls)));

    Serde<Map<String, Long>> map = Serdes.mapOf(Serdes.STRING, Serdes.LONG);
    Map<String, Long> ordered = new java.util.LinkedHashMap<>();
    ordered.put("z", 1L);
    ordered.put("a", 2L);
    assertEquals(List.of("z", "a"), List.copyOf(map.fromBytes(map.toBytes(ordered)).keySet()),
        "iteration order is kept");
    Serde<Long> boxed = Serdes.of(Long.class);
    assertNull(boxed.fromBytes(boxed.toBytes(null)), "a reference type may be null");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Serdes.of(Object.class));
    assertTrue(e.getMessage().contains("java.lang.Object"), e.getMessage());
  }

  record Node(String value, Node next) {}

  record Tree(long value, Tree left, Tree right) {}

  record Pair(Ping ping, String tag) {}

  record Ping(long n, Pong pong) {}

  record Pong(Ping back) {}

  /** Records that contain themselves, directly or through another record, are nested records. */
  @Test
  void selfReferencingRecordsRoundTrip() {
    Node list = new Node("a", new Node("b", new Node("c", null)));
    assertEquals(list, roundTrip(Serdes.record(Node.class), list));
    Tree tree = new Tree(1, new Tree(2, null, new Tree(3, null, null)), new Tree(4, null, null));
    assertEquals(tree, roundTrip(Serdes.record(Tree.class), tree));
    Pair pair = new Pair(new Ping(1, new Pong(new Ping(2, new Pong(null)))), "t");
    assertEquals(pair, roundTrip(Serdes.record(Pair.class), pair));
    assertEquals(tree, roundTrip(javaCopy(Serdes.record(Tree.class)), tree));
  }

  // ----------------------------------------------------------- copies by Java serialization

  @SuppressWarnings("unchecked")
  private static <T> T javaCopy(T value) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(value);
    } catch (IOException e) {
      throw new AssertionError("not serializable: " + e, e);
    }
    try (ObjectInputStream in = new ObjectInputStream(
        new ByteArrayInputStream(bytes.toByteArray()))) {
      return (T) in.readObject();
    } catch (IOException | ClassNotFoundException e) {
      throw new AssertionError("cannot read back: " + e, e);
    }
  }

  /** A function holding serdes, copied to each task the way the runner copies functions. */
  static final class HoldsSerdes extends KeyedProcessFunction<Long, Long, Long> {
    final Serde<Group> groups = Serdes.record(Group.class);
    final Serde<List<Shape>> shapes = Serdes.listOf(Serdes.nullable(Serdes.record(Shape.class)));

    @Override
    public void processElement(Long value, Context<Long> context, Collector<Long> out) {}
  }

  @Test
  void recordSerdesWorkAfterAJavaSerializationCopy() {
    Serde<Shape> original = Serdes.record(Shape.class);
    Serde<Shape> copy = javaCopy(original);
    Shape shape = new Shape("tri", Color.GREEN, new Point(5, 6), new byte[] {1}, 3, null, 1.0,
        true, null, 0.5, true);
    assertEquals(shape, copy.fromBytes(copy.toBytes(shape)));
    assertArrayEquals(original.toBytes(shape), copy.toBytes(shape), "same encoding");

    HoldsSerdes function = javaCopy(new HoldsSerdes());
    Group g = new Group("g", shape, new Point(0, 0));
    Group back = function.groups.fromBytes(new HoldsSerdes().groups.toBytes(g));
    assertEquals(shape, back.main());
    List<Shape> list = Arrays.asList(shape, null);
    assertEquals(list, function.shapes.fromBytes(function.shapes.toBytes(list)));

    // A copy of a built-in wrapper is a new object that still works.
    Serde<String> nullable = Serdes.nullable(Serdes.STRING);
    Serde<String> nullableCopy = javaCopy(nullable);
    assertNotSame(nullable, nullableCopy);
    assertNull(nullableCopy.fromBytes(nullable.toBytes(null)));
    assertEquals("x", nullableCopy.fromBytes(nullable.toBytes("x")));
  }
}
