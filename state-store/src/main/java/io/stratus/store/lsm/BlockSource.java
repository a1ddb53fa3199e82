package io.stratus.store.lsm;

import io.stratus.store.sst.Block;
import io.stratus.store.sst.SstReader;

/** Where a file iterator gets its data blocks: the shared cache (scans) or readahead (compaction). */
interface BlockSource {

  /** The verified block {@code index} of the file; may block while it loads. */
  Block block(SstFile file, SstReader reader, int index);
}
