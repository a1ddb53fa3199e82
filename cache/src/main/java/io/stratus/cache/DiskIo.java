package io.stratus.cache;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The file operations of the disk tier, behind an interface so that tests can make a real
 * directory behave like a full or failing disk (a real full filesystem needs a mount that test
 * machines do not allow).
 */
interface DiskIo {

  void write(Path file, byte[] header, byte[] data) throws IOException;

  byte[] read(Path file) throws IOException;

  void delete(Path file) throws IOException;

  /** Plain NIO on the local filesystem. */
  DiskIo LOCAL = new DiskIo() {
    @Override
    public void write(Path file, byte[] header, byte[] data) throws IOException {
      try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE)) {
        ByteBuffer[] buffers = {ByteBuffer.wrap(header), ByteBuffer.wrap(data)};
        long want = (long) header.length + data.length;
        long written = 0;
        while (written < want) {
          written += channel.write(buffers);
        }
      }
    }

    @Override
    public byte[] read(Path file) throws IOException {
      return Files.readAllBytes(file);
    }

    @Override
    public void delete(Path file) throws IOException {
      Files.deleteIfExists(file);
    }
  };
}
