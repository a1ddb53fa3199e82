package io.stratus.runtime.state;

import io.stratus.store.keygroup.KeyGroups;
import io.stratus.store.keygroup.Murmur3;
import io.stratus.runtime.serde.BytesOut;
import java.nio.charset.StandardCharsets;

/**
 * The state key layout (byte-wise unsigned order):
 * {@code keyGroup (2) | stateId (varint) | len key | len namespace | userKey}. The length
 * prefixes make a {@code (keyGroup, stateId, key, namespace)} prefix name exactly one
 * (key, namespace) pair, so MapState iterates a prefix and windows use the namespace.
 *
 * <p>A state id is derived from the state's name (14 bits of its murmur3 hash, so at most two
 * varint bytes); operators detect the rare collision when they register their states.
 */
public final class StateKeys {

  /** State ids at or above this are reserved for the runtime (timers). */
  public static final int RESERVED_IDS = 1 << 14;

  /** The state id of event-time timers. */
  public static final int EVENT_TIMERS = RESERVED_IDS;

  /** The state id of processing-time timers. */
  public static final int PROCESSING_TIMERS = RESERVED_IDS + 1;

  /** The state id of the per-key-group marker "this key group has had timers". */
  public static final int TIMER_GROUPS = RESERVED_IDS + 2;

  private StateKeys() {}

  /** The id of the state named {@code name}. */
  public static int stateId(String name) {
    byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
    return Murmur3.hash32(bytes, 0, bytes.length, 0x5a17) & (RESERVED_IDS - 1);
  }

  /** The prefix shared by every entry of one (key, namespace) of one state. */
  public static byte[] prefix(int keyGroup, int stateId, byte[] key, byte[] namespace) {
    BytesOut out = new BytesOut(8 + key.length + namespace.length);
    out.writeBytes(KeyGroups.prefix(keyGroup)).writeVarLong(stateId)
        .writeLengthPrefixed(key).writeLengthPrefixed(namespace);
    return out.toByteArray();
  }

  /** {@code prefix} followed by {@code userKey}: one MapState entry. */
  public static byte[] withUserKey(byte[] prefix, byte[] userKey) {
    byte[] out = new byte[prefix.length + userKey.length];
    System.arraycopy(prefix, 0, out, 0, prefix.length);
    System.arraycopy(userKey, 0, out, prefix.length, userKey.length);
    return out;
  }

  /** The prefix of all entries of {@code stateId} in {@code keyGroup}. */
  public static byte[] statePrefix(int keyGroup, int stateId) {
    BytesOut out = new BytesOut(6);
    out.writeBytes(KeyGroups.prefix(keyGroup)).writeVarLong(stateId);
    return out.toByteArray();
  }
}
