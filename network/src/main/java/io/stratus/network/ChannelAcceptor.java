package io.stratus.network;

/** Finds the consumer of a channel a peer opens to this worker. */
@FunctionalInterface
public interface ChannelAcceptor {

  /**
   * A producer on worker {@code peer} opened the channel named {@code key} (the name both ends
   * derive from the job; the data plane does not interpret it).
   *
   * @throws IllegalArgumentException to refuse the channel (the connection is closed)
   */
  InboundChannel accept(String peer, String key);
}
