package io.stratus.bench;

import java.util.HashMap;
import java.util.Map;

/** {@code --name value} pairs of a macro benchmark's command line (also read by bench-flink). */
public final class BenchArgs {

  private BenchArgs() {}

  public static Map<String, String> parse(String[] args) {
    Map<String, String> out = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("expected --name value pairs, got '" + args[i] + "'");
      }
      out.put(args[i], args[++i]);
    }
    return out;
  }
}
