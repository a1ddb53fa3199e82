package io.stratus.store.sst;

/**
 * One key's entry as a sorted run stores it: a key, a kind and (for PUT and MERGE) a value.
 *
 * @param key   the full state key
 * @param kind  what the entry does
 * @param value the value or merge operand; empty for DELETE
 */
public record SstEntry(byte[] key, EntryKind kind, byte[] value) {}
