package io.stratus.network;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A connection a peer dialed to this worker's data server, to send it records. It runs the
 * handshake as the server, then routes each OPEN to the {@link ChannelAcceptor}, grants each
 * channel its credits, hands DATA frames to the channel's {@link InboundChannel} and returns a
 * credit per buffer the consumer recycles. A frame that breaks the protocol (bad length or
 * checksum, DATA without credit, an unknown channel) closes this connection only: the server
 * goes on serving its other peers. All state is touched on the connection's event loop.
 */
final class InboundConnection extends SimpleChannelInboundHandler<Frames.Frame> {

  private static final Logger LOG = LoggerFactory.getLogger(InboundConnection.class);

  /** One open channel: its consumer and the credits the producer holds. */
  private static final class Inbound {
    final InboundChannel consumer;
    int granted;
    final AtomicInteger recycled = new AtomicInteger();
    boolean open = true;

    Inbound(InboundChannel consumer, int granted) {
      this.consumer = consumer;
      this.granted = granted;
    }
  }

  private final String selfId;
  private final DataPlaneConfig config;
  private final Handshake handshake;
  private final ChannelAcceptor acceptor;
  private final Map<Integer, Inbound> channels = new HashMap<>();
  private final byte[] nonce = Handshake.nonce();
  private Handshake.Hello hello;
  private boolean authenticated;
  private String peer = "?";
  private InetSocketAddress remote;
  private boolean failed;

  InboundConnection(String selfId, DataPlaneConfig config, Handshake handshake,
      ChannelAcceptor acceptor) {
    this.selfId = selfId;
    this.config = config;
    this.handshake = handshake;
    this.acceptor = acceptor;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    remote = (InetSocketAddress) ctx.channel().remoteAddress();
    ctx.executor().schedule(() -> {
      if (!authenticated && ctx.channel().isActive()) {
        reject(ctx, "no handshake within " + config.connectTimeout().toMillis() + " ms");
      }
    }, config.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
    ctx.fireChannelActive();
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, Frames.Frame frame) {
    ByteBuf body = frame.body();
    boolean owned = false;
    try {
      if (frame.type() == Frames.PING) {
        // Keepalives may come before the handshake ends (a slow TLS handshake, say).
        return;
      }
      if (!authenticated) {
        handshake(ctx, frame);
        return;
      }
      switch (frame.type()) {
        case Frames.OPEN -> open(ctx, frame.channel(), body.toString(StandardCharsets.UTF_8));
        case Frames.DATA -> {
          Inbound in = channels.get(frame.channel());
          if (in == null) {
            throw new Frames.FrameException("DATA on channel " + frame.channel()
                + ", which is not open");
          }
          if (in.granted <= 0) {
            throw new Frames.FrameException("DATA on channel " + frame.channel()
                + " without credit");
          }
          in.granted--;
          owned = true;
          in.consumer.onBuffer(body, () -> recycled(ctx, frame.channel(), in));
        }
        case Frames.CLOSE -> {
          Inbound in = channels.remove(frame.channel());
          if (in != null) {
            in.open = false;
          }
        }
        default -> throw new Frames.FrameException("unexpected " + Frames.typeName(frame.type())
            + " frame from the sending side");
      }
    } finally {
      if (!owned) {
        body.release();
      }
    }
  }

  private void handshake(ChannelHandlerContext ctx, Frames.Frame frame) {
    if (frame.type() == Frames.HELLO && hello == null) {
      hello = Handshake.Hello.read(frame.body());
      peer = hello.from();
      if (!hello.to().equals(selfId)) {
        reject(ctx, "this is worker " + selfId + ", not " + hello.to());
        return;
      }
      ctx.writeAndFlush(handshake.challenge(ctx.alloc(), selfId, nonce, hello));
    } else if (frame.type() == Frames.PROOF && hello != null) {
      byte[] mac = Handshake.readMac(frame.body());
      String wrong = handshake.verify(mac, "client", hello.nonce(), nonce, hello.from(), selfId);
      if (wrong != null) {
        reject(ctx, wrong);
        return;
      }
      authenticated = true;
      ctx.pipeline().get(Frames.Decoder.class).authenticated();
      ctx.writeAndFlush(Frames.control(ctx.alloc(), Frames.WELCOME, 0, null));
    } else {
      throw new Frames.FrameException(Frames.typeName(frame.type()) + " during the handshake");
    }
  }

  private void open(ChannelHandlerContext ctx, int id, String key) {
    if (channels.containsKey(id)) {
      throw new Frames.FrameException("OPEN of channel " + id + ", which is open");
    }
    InboundChannel consumer = acceptor.accept(peer, key);
    channels.put(id, new Inbound(consumer, config.creditsPerChannel()));
    ctx.writeAndFlush(Frames.credit(ctx.alloc(), id, config.creditsPerChannel()),
        ctx.voidPromise());
  }

  /** The consumer is done with one buffer: return its credit (coalesced on the event loop). */
  private void recycled(ChannelHandlerContext ctx, int id, Inbound in) {
    if (in.recycled.getAndIncrement() == 0) {
      ctx.executor().execute(() -> {
        int n = in.recycled.getAndSet(0);
        if (in.open && !failed && n > 0) {
          in.granted += n;
          ctx.writeAndFlush(Frames.credit(ctx.alloc(), id, n), ctx.voidPromise());
        }
      });
    }
  }

  private void reject(ChannelHandlerContext ctx, String reason) {
    LOG.warn("Refused a data connection from {} ({}): {}", peer,
        PeerConnectionException.format(remote), reason);
    ByteBuf body = ctx.alloc().buffer();
    Frames.writeString(body, reason);
    failed = true;
    ctx.writeAndFlush(Frames.control(ctx.alloc(), Frames.REJECT, 0, body))
        .addListener(f -> ctx.close());
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    failAll(new PeerConnectionException(peer, remote, "lost from", null));
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Throwable c = cause instanceof io.netty.handler.codec.DecoderException d
        && d.getCause() != null ? d.getCause() : cause;
    if (!failed) {
      LOG.warn("Closed the data connection from {} ({}): {}", peer,
          PeerConnectionException.format(remote), c.toString());
    }
    failAll(new PeerConnectionException(peer, remote, "failed from", c));
    ctx.close();
  }

  private void failAll(PeerConnectionException error) {
    failed = true;
    for (Inbound in : channels.values()) {
      in.open = false;
      in.consumer.onFailure(error);
    }
    channels.clear();
  }
}
