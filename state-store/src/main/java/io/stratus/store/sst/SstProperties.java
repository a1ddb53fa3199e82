package io.stratus.store.sst;

import io.stratus.store.keygroup.KeyGroupRange;

/**
 * What an SST file says about itself in its properties block, and what a version records about
 * it so that opening a store reads no file.
 *
 * @param entries       number of entries
 * @param deletes       of which tombstones
 * @param merges        of which merge operands
 * @param dataBlocks    number of data blocks
 * @param smallest      the first key
 * @param largest       the last key
 * @param keyGroups     key groups of the first and last key
 * @param metaOffset    where the data blocks end and the filter, index, properties and footer
 *                      begin: one ranged read of {@code [metaOffset, fileSize)} loads them all
 * @param fileSize      the file's size in bytes
 */
public record SstProperties(long entries, long deletes, long merges, int dataBlocks,
    byte[] smallest, byte[] largest, KeyGroupRange keyGroups, long metaOffset, long fileSize) {}
