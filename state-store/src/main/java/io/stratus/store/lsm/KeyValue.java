package io.stratus.store.lsm;

/**
 * A live key and its value, as a scan returns them.
 *
 * @param key   the full state key
 * @param value the value (merge operands already applied)
 */
public record KeyValue(byte[] key, byte[] value) {}
