package io.stratus.network;

import java.net.InetSocketAddress;

/**
 * A connection to or from another worker failed (refused, reset, timed out, closed, bad frames
 * or handshake): every channel on it fails with this, which names the peer.
 */
public final class PeerConnectionException extends RuntimeException {

  private final String peer;

  public PeerConnectionException(String peer, InetSocketAddress address, String what,
      Throwable cause) {
    super("data connection " + what + " worker " + peer + " at " + format(address)
        + (cause == null ? "" : ": " + describe(cause)), cause);
    this.peer = peer;
  }

  /** The id of the worker at the other end. */
  public String peer() {
    return peer;
  }

  static String format(InetSocketAddress address) {
    return address == null ? "?" : address.getHostString() + ":" + address.getPort();
  }

  private static String describe(Throwable cause) {
    String message = cause.getMessage();
    return message == null ? cause.getClass().getSimpleName() : message;
  }
}
