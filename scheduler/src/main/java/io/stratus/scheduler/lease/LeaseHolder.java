package io.stratus.scheduler.lease;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;

/**
 * Who holds a lease: enough to name the process to a user ("pid 4242 on build-7 (stratus
 * demo)") and, on the same machine, to tell whether it still runs.
 *
 * @param owner          a random id of this holder, unique per acquisition
 * @param pid            the process id
 * @param host           the host name
 * @param bootId         the Linux boot id (empty elsewhere): equal boot ids and host names
 *                       mean the same running machine, where a pid can be checked
 * @param pidNamespace   the process's pid namespace ({@code /proc/self/ns/pid}, empty if
 *                       unknown): containers on one machine share its boot id, and with host
 *                       networking its host name, but a pid means something only in its
 *                       namespace
 * @param processStart   the process's start, epoch milliseconds (0 if unknown), which tells a
 *                       reused pid from the holder
 * @param description    what the process is, e.g. {@code stratus demo, REST API http://...}
 */
public record LeaseHolder(String owner, long pid, String host, String bootId,
    String pidNamespace, long processStart, String description) {

  /** This process, described as {@code description}. */
  public static LeaseHolder thisProcess(String description) {
    ProcessHandle self = ProcessHandle.current();
    return new LeaseHolder(UUID.randomUUID().toString(), self.pid(), localHostName(), localBootId(),
        localPidNamespace(), self.info().startInstant().map(Instant::toEpochMilli).orElse(0L),
        description);
  }

  /** How a message names it: {@code pid 4242 on build-7 (stratus demo)}. */
  @Override
  public String toString() {
    return "pid " + pid + " on " + host
        + (description == null || description.isBlank() ? "" : " (" + description + ")");
  }

  /**
   * Whether this holder is certainly gone: it ran on this very machine, in this pid namespace,
   * and its process no longer exists (or its pid now belongs to a process that started later).
   * Anywhere else nothing is certain, and the lease's expiry decides.
   */
  @JsonIgnore
  public boolean isGoneFromThisMachine() {
    if (bootId == null || bootId.isEmpty() || !bootId.equals(localBootId())
        || !host.equals(localHostName()) || pidNamespace == null || pidNamespace.isEmpty()
        || !pidNamespace.equals(localPidNamespace())) {
      return false;
    }
    Optional<ProcessHandle> process = ProcessHandle.of(pid);
    if (process.isEmpty() || !process.get().isAlive()) {
      return true;
    }
    long started = process.get().info().startInstant().map(Instant::toEpochMilli).orElse(0L);
    // Start times come from the kernel at a tick's precision: a second apart is another process.
    return processStart != 0 && started != 0 && Math.abs(started - processStart) > 1_000;
  }

  private static String localHostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown-host";
    }
  }

  private static String localPidNamespace() {
    try {
      return Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  private static String localBootId() {
    try {
      return Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).trim();
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }
}
