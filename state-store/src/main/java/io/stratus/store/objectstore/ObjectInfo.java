package io.stratus.store.objectstore;

import java.time.Instant;

/**
 * What a listing or head reports about one object.
 *
 * @param key          the key relative to the store's root
 * @param size         the size in bytes
 * @param lastModified when the object was written
 */
public record ObjectInfo(String key, long size, Instant lastModified) {}
