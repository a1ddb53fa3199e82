package io.stratus.cache;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Real files in a real directory ({@link DiskIo#LOCAL}), plus the faults a test machine cannot
 * produce on demand: a filesystem that fills up, a device that fails reads, a write that hangs.
 * The only fake in the suite.
 */
final class FaultyDiskIo implements DiskIo {

  private final long capacityBytes;
  private final AtomicLong usedBytes = new AtomicLong();
  private volatile boolean failReads;
  private final AtomicBoolean stallArmed = new AtomicBoolean();
  private volatile CountDownLatch stalled = new CountDownLatch(1);
  private volatile CountDownLatch resume = new CountDownLatch(0);
  final AtomicInteger writes = new AtomicInteger();
  final AtomicInteger failedWrites = new AtomicInteger();
  final AtomicInteger failedReads = new AtomicInteger();

  private FaultyDiskIo(long capacityBytes) {
    this.capacityBytes = capacityBytes;
  }

  /** A filesystem with {@code capacityBytes} of room for block files; deletes free room. */
  static FaultyDiskIo withCapacity(long capacityBytes) {
    return new FaultyDiskIo(capacityBytes);
  }

  /** A healthy disk until {@link #failReads()} is called. */
  static FaultyDiskIo healthy() {
    return new FaultyDiskIo(Long.MAX_VALUE);
  }

  void failReads() {
    failReads = true;
  }

  /**
   * Makes the next write hang, like a disk stuck in a long flush, after its file is on disk and
   * before the write returns: the widest window in which a write is in flight.
   */
  void stallNextWrite() {
    stalled = new CountDownLatch(1);
    resume = new CountDownLatch(1);
    stallArmed.set(true);
  }

  /** Waits until the armed stall has caught a write. */
  void awaitStalledWrite() throws InterruptedException {
    if (!stalled.await(TestSupport.DEADLINE_NANOS, TimeUnit.NANOSECONDS)) {
      throw new AssertionError("no disk write reached the stall");
    }
  }

  void resumeWrites() {
    stallArmed.set(false);
    resume.countDown();
  }

  @Override
  public void write(Path file, byte[] header, byte[] data) throws IOException {
    writes.incrementAndGet();
    long size = (long) header.length + data.length;
    long used = usedBytes.addAndGet(size);
    if (used > capacityBytes) {
      usedBytes.addAndGet(-size);
      failedWrites.incrementAndGet();
      // Like ENOSPC mid-write: the part that fit stays behind as a short file.
      long room = Math.max(0, capacityBytes - usedBytes.get());
      byte[] whole = new byte[(int) size];
      System.arraycopy(header, 0, whole, 0, header.length);
      System.arraycopy(data, 0, whole, header.length, data.length);
      byte[] part = Arrays.copyOf(whole, (int) Math.min(room, size - 1));
      Files.write(file, part);
      usedBytes.addAndGet(part.length);
      throw new IOException("No space left on device");
    }
    DiskIo.LOCAL.write(file, header, data);
    if (stallArmed.compareAndSet(true, false)) {
      stalled.countDown();
      try {
        if (!resume.await(TestSupport.DEADLINE_NANOS, TimeUnit.NANOSECONDS)) {
          throw new IOException("stalled write was never resumed");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while stalled", e);
      }
    }
  }

  @Override
  public byte[] read(Path file) throws IOException {
    if (failReads) {
      failedReads.incrementAndGet();
      throw new IOException("Input/output error");
    }
    return DiskIo.LOCAL.read(file);
  }

  @Override
  public void delete(Path file) throws IOException {
    long size;
    try {
      size = Files.size(file);
    } catch (NoSuchFileException e) {
      return;
    }
    DiskIo.LOCAL.delete(file);
    usedBytes.addAndGet(-size);
  }
}
