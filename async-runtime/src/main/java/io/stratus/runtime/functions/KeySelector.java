package io.stratus.runtime.functions;

import java.io.Serializable;

/** Extracts the key a record is partitioned and its state is scoped by. */
@FunctionalInterface
public interface KeySelector<T, K> extends Serializable {
  K getKey(T value) throws Exception;
}
