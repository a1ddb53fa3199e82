package io.stratus.runtime.serde;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The built-in serdes: primitives (big-endian, so unsigned byte order matches numeric order for
 * non-negative values), strings (UTF-8), byte arrays, lists, nullable wrappers and Java records.
 * Hand-written encoders rather than a library: measured in {@code bench} ({@code SerdeBenchmark})
 * against Java serialization, which is an order of magnitude slower and larger.
 */
public final class Serdes {

  private Serdes() {}

  public static final Serde<Long> LONG = new Serde<>() {
    @Override
    public void write(Long value, BytesOut out) {
      out.writeLong(value);
    }

    @Override
    public Long read(BytesIn in) {
      return in.readLong();
    }

    @Override
    public String toString() {
      return "long";
    }
  };

  public static final Serde<Integer> INT = new Serde<>() {
    @Override
    public void write(Integer value, BytesOut out) {
      out.writeInt(value);
    }

    @Override
    public Integer read(BytesIn in) {
      return in.readInt();
    }

    @Override
    public String toString() {
      return "int";
    }
  };

  public static final Serde<Double> DOUBLE = new Serde<>() {
    @Override
    public void write(Double value, BytesOut out) {
      out.writeLong(Double.doubleToLongBits(value));
    }

    @Override
    public Double read(BytesIn in) {
      return Double.longBitsToDouble(in.readLong());
    }

    @Override
    public String toString() {
      return "double";
    }
  };

  public static final Serde<Boolean> BOOLEAN = new Serde<>() {
    @Override
    public void write(Boolean value, BytesOut out) {
      out.writeByte(value ? 1 : 0);
    }

    @Override
    public Boolean read(BytesIn in) {
      return in.readByte() != 0;
    }

    @Override
    public String toString() {
      return "boolean";
    }
  };

  public static final Serde<String> STRING = new Serde<>() {
    @Override
    public void write(String value, BytesOut out) {
      out.writeLengthPrefixed(value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String read(BytesIn in) {
      return new String(in.readLengthPrefixed(), StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
      return "string";
    }
  };

  /**
   * Text as its bare UTF-8 bytes, without a length: only for a value that is a whole message
   * (a Kafka record's value or key, a line), where other systems read and write plain text.
   * Inside another encoding use {@link #STRING}.
   */
  public static final Serde<String> TEXT = new Serde<>() {
    @Override
    public void write(String value, BytesOut out) {
      out.writeBytes(value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String read(BytesIn in) {
      return new String(in.readRemaining(), StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
      return "text";
    }
  };

  public static final Serde<byte[]> BYTES = new Serde<>() {
    @Override
    public void write(byte[] value, BytesOut out) {
      out.writeLengthPrefixed(value);
    }

    @Override
    public byte[] read(BytesIn in) {
      return in.readLengthPrefixed();
    }

    @Override
    public String toString() {
      return "bytes";
    }
  };

  /** Arrays of longs (accumulators, counters): a varint count, then the values. */
  public static final Serde<long[]> LONG_ARRAY = new Serde<>() {
    @Override
    public void write(long[] value, BytesOut out) {
      out.writeVarLong(value.length);
      for (long v : value) {
        out.writeLong(v);
      }
    }

    @Override
    public long[] read(BytesIn in) {
      long[] value = new long[(int) in.readVarLong()];
      for (int i = 0; i < value.length; i++) {
        value[i] = in.readLong();
      }
      return value;
    }

    @Override
    public String toString() {
      return "long[]";
    }
  };

  /** A serde that also accepts {@code null} (one presence byte). */
  public static <T> Serde<T> nullable(Serde<T> inner) {
    return new Serde<>() {
      @Override
      public void write(T value, BytesOut out) {
        out.writeByte(value == null ? 0 : 1);
        if (value != null) {
          inner.write(value, out);
        }
      }

      @Override
      public T read(BytesIn in) {
        return in.readByte() == 0 ? null : inner.read(in);
      }

      @Override
      public String toString() {
        return inner + "?";
      }
    };
  }

  /** Lists: a varint count, then the elements. */
  public static <T> Serde<List<T>> listOf(Serde<T> element) {
    return new Serde<>() {
      @Override
      public void write(List<T> value, BytesOut out) {
        out.writeVarLong(value.size());
        for (T e : value) {
          element.write(e, out);
        }
      }

      @Override
      public List<T> read(BytesIn in) {
        int n = in.readVarInt();
        List<T> out = new ArrayList<>(Math.min(n, 1024));
        for (int i = 0; i < n; i++) {
          out.add(element.read(in));
        }
        return out;
      }

      @Override
      public String toString() {
        return "list<" + element + ">";
      }
    };
  }

  private static final Map<Class<?>, Serde<?>> RECORDS = new ConcurrentHashMap<>();

  /** Record types whose serde this thread is deriving: a component of such a type recurses. */
  private static final ThreadLocal<Set<Class<?>>> DERIVING = ThreadLocal.withInitial(HashSet::new);

  /**
   * A serde for record type {@code type}: its components in declaration order, each with the
   * serde of its type (primitives and their boxes, String, byte[], enums, nested records);
   * reference components may be null. Renaming or reordering components changes the encoding.
   */
  @SuppressWarnings("unchecked")
  public static <R extends Record> Serde<R> record(Class<R> type) {
    Serde<?> known = RECORDS.get(type);
    if (known != null) {
      return (Serde<R>) known;
    }
    Set<Class<?>> deriving = DERIVING.get();
    deriving.add(type);
    Serde<R> built;
    try {
      built = new RecordSerde<>(type);
    } finally {
      deriving.remove(type);
    }
    RECORDS.putIfAbsent(type, built);
    return built;
  }

  /** Maps: a varint count, then each key and value; iteration order is kept. */
  public static <K, V> Serde<Map<K, V>> mapOf(Serde<K> keys, Serde<V> values) {
    return new Serde<>() {
      @Override
      public void write(Map<K, V> value, BytesOut out) {
        out.writeVarLong(value.size());
        for (Map.Entry<K, V> e : value.entrySet()) {
          keys.write(e.getKey(), out);
          values.write(e.getValue(), out);
        }
      }

      @Override
      public Map<K, V> read(BytesIn in) {
        int n = in.readVarInt();
        Map<K, V> out = new LinkedHashMap<>(Math.min(n, 1024) * 2);
        for (int i = 0; i < n; i++) {
          out.put(keys.read(in), values.read(in));
        }
        return out;
      }

      @Override
      public String toString() {
        return "map<" + keys + ", " + values + ">";
      }
    };
  }

  /**
   * The serde of {@code type}: primitives and their boxes, String, byte[], long[], enums and
   * records (whose components may also be lists and maps of those); null is allowed for
   * reference types.
   *
   * @throws IllegalArgumentException naming the type when none can be derived
   */
  @SuppressWarnings("unchecked")
  public static <T> Serde<T> of(Class<T> type) {
    return (Serde<T>) forType(type, type.getName());
  }

  /**
   * The serde of a generic type ({@code List<Payment>}, {@code Map<String, Long>}, or any type
   * {@link #of} takes).
   *
   * @param where what the type belongs to, for the message when none can be derived
   * @throws IllegalArgumentException naming {@code where} and the type when none can be derived
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  public static Serde<Object> forType(Type type, String where) {
    if (type instanceof Class<?> c) {
      return forType(c, where);
    }
    if (type instanceof ParameterizedType p && p.getRawType() instanceof Class<?> raw) {
      Type[] args = p.getActualTypeArguments();
      if (raw == List.class || raw == java.util.Collection.class) {
        return nullable((Serde) listOf(forType(args[0], where)));
      }
      if (raw == Map.class) {
        return nullable((Serde) mapOf(forType(args[0], where), forType(args[1], where)));
      }
    }
    throw new IllegalArgumentException("no built-in serde for " + type.getTypeName() + " ("
        + where + "); supported: primitives and boxes, String, byte[], long[], enums, records, "
        + "and List or Map of those");
  }

  /** The serde of a component type, as {@link #record} uses it. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  static Serde<Object> forType(Class<?> type, String where) {
    Serde<?> s;
    if (type == long.class || type == Long.class) {
      s = LONG;
    } else if (type == int.class || type == Integer.class) {
      s = INT;
    } else if (type == double.class || type == Double.class) {
      s = DOUBLE;
    } else if (type == boolean.class || type == Boolean.class) {
      s = BOOLEAN;
    } else if (type == String.class) {
      s = STRING;
    } else if (type == byte[].class) {
      s = BYTES;
    } else if (type == long[].class) {
      s = LONG_ARRAY;
    } else if (type.isEnum()) {
      Object[] constants = type.getEnumConstants();
      s = new Serde<Object>() {
        @Override
        public void write(Object value, BytesOut out) {
          out.writeVarLong(((Enum<?>) value).ordinal());
        }

        @Override
        public Object read(BytesIn in) {
          int ordinal = in.readVarInt();
          if (ordinal >= constants.length) {
            throw new IllegalArgumentException("enum " + type.getName() + " has no ordinal "
                + ordinal);
          }
          return constants[ordinal];
        }

        @Override
        public String toString() {
          return "enum " + type.getSimpleName();
        }
      };
    } else if (type.isRecord()) {
      // A record that contains itself (a linked list, a tree) gets its serde at first use;
      // deriving it now would recurse without end.
      s = DERIVING.get().contains(type) ? new SelfReference<>((Class<? extends Record>) type)
          : record((Class<? extends Record>) type);
    } else {
      throw new IllegalArgumentException("no built-in serde for " + type.getName() + " ("
          + where + "); supported: primitives and boxes, String, byte[], long[], enums, "
          + "records, and List or Map of those");
    }
    return type.isPrimitive() ? (Serde<Object>) s : nullable((Serde<Object>) s);
  }

  /** The serde of a record type that is being derived, looked up when first used. */
  private static final class SelfReference<R extends Record> implements Serde<R> {
    private final Class<R> type;
    private transient volatile Serde<R> serde;

    SelfReference(Class<R> type) {
      this.type = type;
    }

    private Serde<R> serde() {
      Serde<R> s = serde;
      if (s == null) {
        s = record(type);
        serde = s;
      }
      return s;
    }

    @Override
    public void write(R value, BytesOut out) {
      serde().write(value, out);
    }

    @Override
    public R read(BytesIn in) {
      return serde().read(in);
    }

    @Override
    public String toString() {
      return "record " + type.getSimpleName();
    }
  }

  private static final class RecordSerde<R extends Record> implements Serde<R> {
    private final Class<R> type;
    private final transient MethodHandle[] accessors;
    private final transient Serde<Object>[] serdes;
    private final transient MethodHandle constructor;

    /** Method handles do not serialize: a copy is rebuilt from the type. */
    private Object readResolve() {
      return record(type);
    }

    @SuppressWarnings("unchecked")
    RecordSerde(Class<R> type) {
      this.type = type;
      RecordComponent[] components = type.getRecordComponents();
      accessors = new MethodHandle[components.length];
      serdes = new Serde[components.length];
      Class<?>[] types = new Class<?>[components.length];
      try {
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        // Typed as (Object)Object and (Object[])Object for invokeExact: no varargs boxing per
        // call (records crossing tasks go through here).
        for (int i = 0; i < components.length; i++) {
          components[i].getAccessor().setAccessible(true);
          accessors[i] = lookup.unreflect(components[i].getAccessor())
              .asType(MethodType.methodType(Object.class, Object.class));
          types[i] = components[i].getType();
          serdes[i] = forType(components[i].getGenericType(),
              type.getSimpleName() + "." + components[i].getName());
        }
        var ctor = type.getDeclaredConstructor(types);
        ctor.setAccessible(true);
        constructor = lookup.unreflectConstructor(ctor)
            .asSpreader(Object[].class, components.length)
            .asType(MethodType.methodType(Object.class, Object[].class));
      } catch (ReflectiveOperationException e) {
        throw new IllegalArgumentException("cannot derive a serde for record " + type.getName()
            + ": " + e.getMessage(), e);
      }
    }

    @Override
    public void write(R value, BytesOut out) {
      try {
        for (int i = 0; i < accessors.length; i++) {
          serdes[i].write((Object) accessors[i].invokeExact((Object) value), out);
        }
      } catch (RuntimeException | Error e) {
        throw e;
      } catch (Throwable t) {
        throw new IllegalStateException("cannot serialize " + type.getName(), t);
      }
    }

    @Override
    public R read(BytesIn in) {
      Object[] args = new Object[serdes.length];
      for (int i = 0; i < serdes.length; i++) {
        args[i] = serdes[i].read(in);
      }
      try {
        return type.cast((Object) constructor.invokeExact(args));
      } catch (RuntimeException | Error e) {
        throw e;
      } catch (Throwable t) {
        throw new IllegalStateException("cannot construct " + type.getName(), t);
      }
    }

    @Override
    public String toString() {
      return "record " + type.getSimpleName();
    }
  }
}
