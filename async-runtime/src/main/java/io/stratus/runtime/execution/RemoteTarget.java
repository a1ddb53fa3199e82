package io.stratus.runtime.execution;

import io.netty.buffer.ByteBuf;
import io.stratus.network.OutboundChannel;

/**
 * A channel to a consumer task on another worker: each element is written into the data
 * plane's pooled buffers ({@link ElementCodec}). Barriers, idleness and the end of input send
 * the buffer at once (a checkpoint must not wait for the flush timeout); the end of input
 * closes the channel after it. Space means the data plane has credit for this channel.
 */
final class RemoteTarget implements ChannelTarget {

  private final OutboundChannel channel;

  RemoteTarget(OutboundChannel channel) {
    this.channel = channel;
  }

  OutboundChannel channel() {
    return channel;
  }

  /** @throws io.stratus.network.PeerConnectionException if the connection to the peer failed */
  @Override
  public void offer(StreamElement element) {
    ByteBuf buf = channel.reserve(ElementCodec.size(element));
    boolean flush = !(element instanceof StreamElement.Record)
        && !(element instanceof StreamElement.Watermark);
    try {
      ElementCodec.write(element, buf);
    } finally {
      channel.commit(flush);
    }
    if (element instanceof StreamElement.End) {
      channel.close();
    }
  }

  @Override
  public boolean hasSpace() {
    return channel.hasCapacity();
  }

  @Override
  public void whenSpace(Runnable resume) {
    channel.whenCapacity(resume);
  }
}
