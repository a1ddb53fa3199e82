package io.stratus.examples;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/** How the command line shows sizes, durations, rates and times to people. */
final class Units {

  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneId.systemDefault());

  private Units() {}

  /** {@code 0 B}, {@code 812 B}, {@code 3.4 KiB}, {@code 88.0 MiB}, {@code 1.2 GiB}. */
  static String bytes(double bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
    int unit = 0;
    double value = bytes;
    while (Math.abs(value) >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return unit == 0 ? String.format("%.0f B", value) : String.format("%.1f %s", value, units[unit]);
  }

  /** {@code 812 ms}, {@code 4.2 s}, {@code 3 min 10 s}, {@code 2 h 5 min}. */
  static String millis(long millis) {
    if (millis < 1_000) {
      return millis + " ms";
    }
    if (millis < 60_000) {
      return String.format("%.1f s", millis / 1000.0);
    }
    long seconds = millis / 1000;
    if (seconds < 3600) {
      return (seconds / 60) + " min " + (seconds % 60) + " s";
    }
    return (seconds / 3600) + " h " + (seconds % 3600 / 60) + " min";
  }

  /** An instant in local time, {@code 2026-12-06 20:20:18}. */
  static String time(long epochMillis) {
    return TIME.format(Instant.ofEpochMilli(epochMillis));
  }

  /** {@code 1,234,567}. */
  static String count(long n) {
    return String.format("%,d", n);
  }
}
