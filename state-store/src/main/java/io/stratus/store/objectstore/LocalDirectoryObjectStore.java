package io.stratus.store.objectstore;

import io.stratus.cache.NamedDaemonThreadFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@link ObjectStore} in a local directory: one file per object, keys as relative paths. Writes
 * go to a temporary file that is then renamed into place, so readers never see a partial object;
 * conditional writes publish with a hard link, which fails atomically if the name is taken.
 *
 * <p>For tests, benchmarks (behind {@link SimulatedNetworkObjectStore} it models a cloud bucket)
 * and single-machine use. Files are not fsynced unless asked: a machine crash may lose the last
 * writes, as it would with RocksDB without WAL.
 */
public final class LocalDirectoryObjectStore implements ObjectStore {

  private static final String TEMP_DIR = ".tmp";
  private static final String CAS_LOCK = "compare-and-swap.lock";
  /** One lock per root: a JVM may not hold two file locks on one file. */
  private static final ConcurrentHashMap<Path, ReentrantLock> CAS_LOCKS =
      new ConcurrentHashMap<>();

  private final Path root;
  private final boolean fsync;
  private final ExecutorService io;

  /** A store in {@code root} (created if missing), without fsync, with 4 I/O threads. */
  public LocalDirectoryObjectStore(Path root) {
    this(root, false, 4);
  }

  public LocalDirectoryObjectStore(Path root, boolean fsync, int ioThreads) {
    this.root = root.toAbsolutePath().normalize();
    this.fsync = fsync;
    try {
      Files.createDirectories(this.root.resolve(TEMP_DIR));
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot create object store directory " + this.root + ": " + e.getMessage(), e);
    }
    this.io = Executors.newFixedThreadPool(ioThreads,
        new NamedDaemonThreadFactory("stratus-localstore-io"));
  }

  public Path root() {
    return root;
  }

  @Override
  public String location() {
    return root.toString();
  }

  @Override
  public CompletableFuture<byte[]> get(String key) {
    return call("GET", key, () -> {
      Path path = pathOf(key);
      try {
        return Files.readAllBytes(path);
      } catch (IOException e) {
        throw notAnObject(path, e);
      }
    });
  }

  @Override
  public CompletableFuture<byte[]> getRange(String key, long offset, int length) {
    return call("GET range of", key, () -> {
      if (offset < 0 || length < 0) {
        throw new IllegalArgumentException(
            "invalid range offset=" + offset + " length=" + length + " for " + key);
      }
      Path path = pathOf(key);
      try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
        long size = channel.size();
        if (offset + length > size) {
          throw new ObjectStoreException("GET range [" + offset + ", " + (offset + length)
              + ") of " + key + " in " + location() + ": object has only " + size + " bytes");
        }
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
          if (channel.read(buffer, offset + buffer.position()) < 0) {
            throw new IOException("unexpected end of file");
          }
        }
        return buffer.array();
      } catch (IOException e) {
        throw notAnObject(path, e);
      }
    });
  }

  @Override
  public CompletableFuture<Void> put(String key, byte[] data) {
    return call("PUT", key, () -> {
      Path target = pathOf(key);
      Path temp = writeTemp(data);
      try {
        Files.createDirectories(target.getParent());
        try {
          Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE,
              StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
          Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
        }
      } catch (IOException | RuntimeException e) {
        Files.deleteIfExists(temp);
        throw e;
      }
      return null;
    });
  }

  @Override
  public CompletableFuture<Boolean> putIfAbsent(String key, byte[] data) {
    return call("conditional PUT", key, () -> {
      Path target = pathOf(key);
      Path temp = writeTemp(data);
      try {
        // Outside the catch below: a file where the parent directory should be is an error,
        // not an existing object.
        Files.createDirectories(target.getParent());
        try {
          Files.createLink(target, temp);
          return true;
        } catch (FileAlreadyExistsException e) {
          return false;
        }
      } finally {
        Files.deleteIfExists(temp);
      }
    });
  }

  @Override
  public CompletableFuture<Optional<VersionedObject>> getVersioned(String key) {
    return call("GET", key, () -> {
      try {
        byte[] data = Files.readAllBytes(pathOf(key));
        return Optional.of(new VersionedObject(data, versionTag(data)));
      } catch (NoSuchFileException e) {
        return Optional.empty();
      } catch (IOException e) {
        if (Files.isDirectory(pathOf(key))) {
          return Optional.empty();
        }
        throw e;
      }
    });
  }

  /**
   * Compares and swaps under a lock that holds across threads (a lock per root in this JVM)
   * and across processes (a file lock), so two processes on one directory stay exclusive.
   */
  @Override
  public CompletableFuture<Optional<String>> putIfVersion(String key, byte[] data,
      String expectedTag) {
    return call("conditional PUT (If-Match)", key, () -> {
      Path target = pathOf(key);
      ReentrantLock inJvm = CAS_LOCKS.computeIfAbsent(root, r -> new ReentrantLock());
      inJvm.lock();
      try (FileChannel lockFile = FileChannel.open(root.resolve(TEMP_DIR).resolve(CAS_LOCK),
          StandardOpenOption.CREATE, StandardOpenOption.WRITE);
          FileLock ignored = lockFile.lock()) {
        byte[] current;
        try {
          current = Files.readAllBytes(target);
        } catch (NoSuchFileException e) {
          return Optional.<String>empty();
        }
        if (!versionTag(current).equals(expectedTag)) {
          return Optional.<String>empty();
        }
        Path temp = writeTemp(data);
        try {
          Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE,
              StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
          Files.deleteIfExists(temp);
          throw e;
        }
        return Optional.of(versionTag(data));
      } finally {
        inJvm.unlock();
      }
    });
  }

  /** A content digest, as S3's ETag of a single-part object is. */
  private static String versionTag(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("MD5 is missing from this JVM", e);
    }
  }

  @Override
  public CompletableFuture<Optional<ObjectInfo>> head(String key) {
    return call("HEAD", key, () -> {
      try {
        BasicFileAttributes attributes = Files.readAttributes(pathOf(key),
            BasicFileAttributes.class);
        if (!attributes.isRegularFile()) {
          return Optional.empty();
        }
        return Optional.of(new ObjectInfo(key, attributes.size(),
            attributes.lastModifiedTime().toInstant()));
      } catch (NoSuchFileException e) {
        return Optional.empty();
      }
    });
  }

  @Override
  public CompletableFuture<List<ObjectInfo>> list(String prefix) {
    return call("LIST", prefix, () -> {
      int slash = prefix.lastIndexOf('/');
      Path start = slash < 0 ? root : pathOf(prefix.substring(0, slash));
      if (!Files.isDirectory(start)) {
        return List.of();
      }
      List<ObjectInfo> out = new ArrayList<>();
      Path temp = root.resolve(TEMP_DIR);
      // Not Files.walk: its iterator fails on a file deleted between readdir and stat, which
      // temp files and concurrent deletes do all the time.
      Files.walkFileTree(start, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attributes) {
          return dir.equals(temp) ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
          String key = keyOf(file);
          if (attributes.isRegularFile() && key.startsWith(prefix)) {
            out.add(new ObjectInfo(key, attributes.size(),
                attributes.lastModifiedTime().toInstant()));
          }
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
          if (e instanceof NoSuchFileException) {
            return FileVisitResult.CONTINUE;
          }
          throw e;
        }
      });
      out.sort(Comparator.comparing(ObjectInfo::key));
      return out;
    });
  }

  @Override
  public CompletableFuture<Void> delete(Collection<String> keys) {
    List<String> all = List.copyOf(keys);
    return call("DELETE", all.isEmpty() ? "(none)" : all.get(0), () -> {
      for (String key : all) {
        Files.deleteIfExists(pathOf(key));
      }
      return null;
    });
  }

  @Override
  public void close() {
    io.shutdown();
  }

  private Path writeTemp(byte[] data) throws IOException {
    Path temp = root.resolve(TEMP_DIR).resolve(UUID.randomUUID() + ".part");
    try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE)) {
      ByteBuffer buffer = ByteBuffer.wrap(data);
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
      if (fsync) {
        channel.force(true);
      }
    }
    return temp;
  }

  /** A directory is a key prefix, not an object: reading it finds no object. */
  private static IOException notAnObject(Path path, IOException e) {
    return Files.isDirectory(path) ? new NoSuchFileException(path.toString()) : e;
  }

  private Path pathOf(String key) {
    if (key.isEmpty() || key.startsWith("/") || key.contains("\\")) {
      throw new IllegalArgumentException("invalid object key '" + key + "'");
    }
    Path path = root.resolve(key).normalize();
    if (!path.startsWith(root) || path.equals(root)) {
      throw new IllegalArgumentException("object key '" + key + "' escapes " + root);
    }
    return path;
  }

  private String keyOf(Path file) {
    return root.relativize(file).toString().replace(java.io.File.separatorChar, '/');
  }

  private interface IoCall<T> {
    T run() throws IOException;
  }

  private <T> CompletableFuture<T> call(String operation, String key, IoCall<T> body) {
    try {
      return CompletableFuture.supplyAsync(() -> {
        try {
          return body.run();
        } catch (NoSuchFileException e) {
          throw new ObjectNotFoundException(location(), key);
        } catch (IOException e) {
          throw new ObjectStoreException(operation + " " + key + " in " + location()
              + " failed: " + e, e);
        }
      }, io);
    } catch (RejectedExecutionException e) {
      return CompletableFuture.failedFuture(
          new ObjectStoreException(operation + " " + key + ": store " + location() + " is closed"));
    }
  }
}
