package io.stratus.store.objectstore;

/**
 * An object's content with its version tag, for compare-and-swap writes
 * ({@link ObjectStore#putIfVersion}). The tag is opaque (an S3 ETag, or a digest of the content
 * in a local directory): equal content may give an equal tag, so a writer that needs each
 * write to be distinguishable makes each content unique (a counter, a timestamp).
 *
 * @param data       the whole object
 * @param versionTag its version tag
 */
public record VersionedObject(byte[] data, String versionTag) {}
