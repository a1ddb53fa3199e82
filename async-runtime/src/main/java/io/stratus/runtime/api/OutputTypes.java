package io.stratus.runtime.api;

import io.stratus.runtime.serde.Serde;
import io.stratus.runtime.serde.Serdes;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The serde of what a function emits, derived from its class's generic type arguments (a
 * {@code class Enrich implements MapFunction<Payment, Alert>} emits {@code Alert}s). A lambda
 * keeps no type arguments: its output has no derived serde, and a stream that needs one says
 * so with {@code returns(serde)}, as in Flink.
 */
final class OutputTypes {

  private OutputTypes() {}

  /**
   * The serde of type argument {@code index} of {@code declaring} as {@code function}'s class
   * binds it, or null when it cannot be known (a lambda, a generic class, an unsupported type).
   */
  static Serde<?> serdeOf(Object function, Class<?> declaring, int index) {
    Type type = find(function.getClass(), declaring, index, Map.of());
    if (type == null || type instanceof TypeVariable<?>) {
      return null;
    }
    try {
      return Serdes.forType(type, function.getClass().getName());
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** The type argument, following type variables through the class hierarchy. */
  private static Type find(Type type, Class<?> declaring, int index,
      Map<TypeVariable<?>, Type> bindings) {
    Class<?> raw;
    Map<TypeVariable<?>, Type> here = new HashMap<>();
    if (type instanceof ParameterizedType p && p.getRawType() instanceof Class<?> c) {
      raw = c;
      TypeVariable<?>[] variables = c.getTypeParameters();
      Type[] args = p.getActualTypeArguments();
      for (int i = 0; i < variables.length; i++) {
        here.put(variables[i], bindings.getOrDefault(args[i], args[i]));
      }
    } else if (type instanceof Class<?> c) {
      raw = c;
    } else {
      return null;
    }
    if (raw == declaring) {
      return raw.getTypeParameters().length > index && type instanceof ParameterizedType
          ? here.get(raw.getTypeParameters()[index]) : null;
    }
    List<Type> supers = new ArrayList<>(List.of(raw.getGenericInterfaces()));
    if (raw.getGenericSuperclass() != null) {
      supers.add(raw.getGenericSuperclass());
    }
    for (Type s : supers) {
      Type found = find(s, declaring, index, here);
      if (found != null) {
        return found;
      }
    }
    return null;
  }
}
