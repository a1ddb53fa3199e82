package io.stratus.examples;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code --name value} and {@code --flag} arguments, checked against the options a command
 * declares, with errors that name the option and the bad value.
 */
final class CommandLineOptions {

  private final Map<String, String> values = new HashMap<>();

  private CommandLineOptions() {}

  /**
   * Parses {@code args}.
   *
   * @param withValue options that take a value
   * @param flags     options that take none
   * @throws IllegalArgumentException on an unknown option or a missing value
   */
  static CommandLineOptions parse(List<String> args, Set<String> withValue, Set<String> flags) {
    CommandLineOptions options = new CommandLineOptions();
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      String name = arg;
      String value = null;
      int eq = arg.indexOf('=');
      if (arg.startsWith("--") && eq > 0) {
        name = arg.substring(0, eq);
        value = arg.substring(eq + 1);
      }
      if (flags.contains(name) && value == null) {
        options.values.put(name, "true");
      } else if (withValue.contains(name)) {
        if (value == null) {
          if (i + 1 >= args.size() || args.get(i + 1).startsWith("--")) {
            throw new IllegalArgumentException("option " + name + " needs a value");
          }
          value = args.get(++i);
        }
        options.values.put(name, value);
      } else {
        throw new IllegalArgumentException("unknown option '" + arg + "' (see --help)");
      }
    }
    return options;
  }

  boolean has(String name) {
    return values.containsKey(name);
  }

  String string(String name, String fallback) {
    return values.getOrDefault(name, fallback);
  }

  long positiveLong(String name, long fallback) {
    String v = values.get(name);
    if (v == null) {
      return fallback;
    }
    try {
      long n = Long.parseLong(v.replace("_", ""));
      if (n > 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(name + " must be a positive integer, was '" + v + "'");
  }

  /** Formats option descriptions for {@code --help}. */
  static String describe(LinkedHashMap<String, String> options) {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, String> e : options.entrySet()) {
      sb.append(String.format("  %-24s %s%n", e.getKey(), e.getValue()));
    }
    return sb.toString();
  }
}
