package io.stratus.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The mutual challenge–response of a new connection. The dialing worker sends HELLO (its id,
 * the id it means to reach, a nonce); the server answers CHALLENGE (its id, its nonce, and an
 * HMAC over both nonces and ids proving it holds the secret); the dialer checks it and answers
 * PROOF (its own HMAC); the server checks that and answers WELCOME, or REJECT with a reason.
 * The secret never travels, and a recorded exchange cannot be replayed (fresh nonces).
 * Without a secret both MACs are empty and both ends must agree there is none.
 */
final class Handshake {

  static final int VERSION = 1;
  private static final int NONCE = 32;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final byte[] secret;

  Handshake(String secret) {
    this.secret = secret == null ? null : secret.getBytes(StandardCharsets.UTF_8);
  }

  boolean hasSecret() {
    return secret != null;
  }

  static byte[] nonce() {
    byte[] n = new byte[NONCE];
    RANDOM.nextBytes(n);
    return n;
  }

  static ByteBuf hello(ByteBufAllocator alloc, String from, String to, byte[] nonce) {
    ByteBuf body = alloc.buffer();
    body.writeShort(VERSION);
    Frames.writeString(body, from);
    Frames.writeString(body, to);
    body.writeBytes(nonce);
    return Frames.control(alloc, Frames.HELLO, 0, body);
  }

  /** HELLO as the server reads it. */
  record Hello(String from, String to, byte[] nonce) {
    static Hello read(ByteBuf body) {
      checkVersion(body.readUnsignedShort());
      String from = Frames.readString(body);
      String to = Frames.readString(body);
      return new Hello(from, to, readNonce(body));
    }
  }

  ByteBuf challenge(ByteBufAllocator alloc, String serverId, byte[] serverNonce, Hello hello) {
    ByteBuf body = alloc.buffer();
    body.writeShort(VERSION);
    Frames.writeString(body, serverId);
    body.writeBytes(serverNonce);
    writeMac(body, mac("server", hello.nonce(), serverNonce, hello.from(), serverId));
    return Frames.control(alloc, Frames.CHALLENGE, 0, body);
  }

  /** CHALLENGE as the dialer reads it. */
  record Challenge(String serverId, byte[] nonce, byte[] mac) {
    static Challenge read(ByteBuf body) {
      checkVersion(body.readUnsignedShort());
      String id = Frames.readString(body);
      byte[] nonce = readNonce(body);
      return new Challenge(id, nonce, readMac(body));
    }
  }

  ByteBuf proof(ByteBufAllocator alloc, byte[] clientNonce, Challenge c, String clientId) {
    ByteBuf body = alloc.buffer();
    writeMac(body, mac("client", clientNonce, c.nonce(), clientId, c.serverId()));
    return Frames.control(alloc, Frames.PROOF, 0, body);
  }

  /**
   * Checks the MAC the other end sent.
   *
   * @return null if it holds, else why not (never the secret)
   */
  String verify(byte[] received, String role, byte[] clientNonce, byte[] serverNonce,
      String clientId, String serverId) {
    if (secret == null) {
      return received.length == 0 ? null
          : "the peer proves a cluster secret but this worker has none configured";
    }
    if (received.length == 0) {
      return "the peer has no cluster secret configured";
    }
    byte[] expected = mac(role, clientNonce, serverNonce, clientId, serverId);
    return MessageDigest.isEqual(expected, received) ? null
        : "the peer's proof does not match this worker's cluster secret";
  }

  static byte[] readMac(ByteBuf body) {
    int len = body.readUnsignedByte();
    if (len > body.readableBytes()) {
      throw new Frames.FrameException("a MAC of " + len + " bytes in a frame of "
          + body.readableBytes());
    }
    byte[] mac = new byte[len];
    body.readBytes(mac);
    return mac;
  }

  private static void writeMac(ByteBuf body, byte[] mac) {
    body.writeByte(mac.length);
    body.writeBytes(mac);
  }

  private byte[] mac(String role, byte[] clientNonce, byte[] serverNonce, String clientId,
      String serverId) {
    if (secret == null) {
      return new byte[0];
    }
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      mac.update(("stratus-data-plane/" + VERSION + "/" + role).getBytes(StandardCharsets.UTF_8));
      mac.update(clientNonce);
      mac.update(serverNonce);
      mac.update(clientId.getBytes(StandardCharsets.UTF_8));
      mac.update((byte) 0);
      mac.update(serverId.getBytes(StandardCharsets.UTF_8));
      return mac.doFinal();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  }

  private static byte[] readNonce(ByteBuf body) {
    if (body.readableBytes() < NONCE) {
      throw new Frames.FrameException("a handshake frame without its nonce");
    }
    byte[] n = new byte[NONCE];
    body.readBytes(n);
    return n;
  }

  private static void checkVersion(int version) {
    if (version != VERSION) {
      throw new Frames.FrameException("the peer speaks data-plane version " + version
          + ", this worker " + VERSION);
    }
  }
}
