package io.stratus.network;

import io.netty.buffer.ByteBuf;

/**
 * The consumer's end of one logical channel: buffers arrive in the order the producer sent
 * them, each whole and checksummed, on the connection's event loop.
 */
public interface InboundChannel {

  /**
   * One buffer of the channel. The callee owns {@code payload} (release it) and calls
   * {@code recycle} once it has consumed it, which returns one credit to the producer; until
   * then the buffer counts against the channel's credits. Throwing (say, a payload that does not
   * parse) closes the connection and fails every channel on it.
   */
  void onBuffer(ByteBuf payload, Runnable recycle);

  /** The connection carrying the channel failed: no more buffers will come. */
  void onFailure(PeerConnectionException error);
}
