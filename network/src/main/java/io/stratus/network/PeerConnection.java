package io.stratus.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This worker's connection to one peer it sends records to: it dials, runs the handshake as
 * the client ({@link Handshake}), then carries every {@link OutboundChannel} to that peer,
 * each opened with an OPEN frame and fed by the CREDIT frames the peer sends back. When the
 * connection fails, every channel on it fails at once with the peer's name.
 */
final class PeerConnection extends SimpleChannelInboundHandler<Frames.Frame> {

  private static final Logger LOG = LoggerFactory.getLogger(PeerConnection.class);

  private final String selfId;
  private final String peerId;
  private final InetSocketAddress address;
  private final DataPlaneConfig config;
  private final Handshake handshake;
  private final Runnable onClosed;
  /** The data plane's count of DATA bytes written. */
  private final LongAdder sent;
  private final Map<Integer, OutboundChannel> channels = new ConcurrentHashMap<>();
  private final AtomicInteger nextChannel = new AtomicInteger(1);
  private final CompletableFuture<Void> ready = new CompletableFuture<>();
  private final byte[] nonce = Handshake.nonce();
  private volatile Channel channel;
  private volatile EventLoop eventLoop;
  private volatile PeerConnectionException failure;
  /** The peer's CHALLENGE held and this worker answered with its PROOF (event loop only). */
  private boolean proofSent;

  PeerConnection(String selfId, String peerId, InetSocketAddress address,
      DataPlaneConfig config, Handshake handshake, EventLoop eventLoop, Runnable onClosed,
      LongAdder sent) {
    this.sent = sent;
    this.selfId = selfId;
    this.peerId = peerId;
    this.address = address;
    this.config = config;
    this.handshake = handshake;
    this.eventLoop = eventLoop;
    this.onClosed = onClosed;
  }

  String peerId() {
    return peerId;
  }

  InetSocketAddress address() {
    return address;
  }

  EventLoop eventLoop() {
    return eventLoop;
  }

  ByteBufAllocator alloc() {
    return ByteBufAllocator.DEFAULT;
  }

  int openChannels() {
    return channels.size();
  }

  /** Completes once the handshake succeeded; fails with the reason it did not. */
  CompletableFuture<Void> ready() {
    return ready;
  }

  /** Opens a channel: OPEN goes out once the connection is ready. */
  OutboundChannel open(String key) {
    OutboundChannel ch = new OutboundChannel(this, nextChannel.getAndIncrement(), key, config);
    channels.put(ch.id(), ch);
    PeerConnectionException failed = failure;
    if (failed != null) {
      ch.fail(failed);
      return ch;
    }
    ready.thenRun(() -> eventLoop.execute(() -> {
      if (channels.containsKey(ch.id())) {
        channel.writeAndFlush(Frames.open(alloc(), ch.id(), key));
      }
    }));
    return ch;
  }

  void write(ByteBuf frame) {
    sent.add(frame.readableBytes());
    channel.write(frame, channel.voidPromise());
  }

  void flush() {
    channel.flush();
  }

  /** Forgets a channel and tells the peer (after the frames already queued). */
  void closeChannel(int id) {
    if (channels.remove(id) == null) {
      return;
    }
    if (ready.isDone() && !ready.isCompletedExceptionally()) {
      eventLoop.execute(() -> channel.writeAndFlush(
          Frames.control(alloc(), Frames.CLOSE, id, null), channel.voidPromise()));
    }
  }

  /** The socket connected; the handshake starts. */
  void connected(Channel ch) {
    this.channel = ch;
    this.eventLoop = ch.eventLoop();
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    ctx.writeAndFlush(Handshake.hello(ctx.alloc(), selfId, peerId, nonce));
    ctx.executor().schedule(() -> {
      if (!ready.isDone()) {
        fail(ctx, "timed out in the handshake with", null);
      }
    }, config.connectTimeout().toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    ctx.fireChannelActive();
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, Frames.Frame frame) {
    ByteBuf body = frame.body();
    try {
      switch (frame.type()) {
        case Frames.CHALLENGE -> onChallenge(ctx, body);
        case Frames.WELCOME -> {
          if (!proofSent || ready.isDone()) {
            throw new Frames.FrameException("WELCOME before this worker checked the peer's"
                + " CHALLENGE");
          }
          ctx.pipeline().get(Frames.Decoder.class).authenticated();
          ready.complete(null);
        }
        case Frames.REJECT -> fail(ctx, "refused by",
            new IllegalStateException(Frames.readString(body)));
        case Frames.CREDIT -> {
          requireReady(frame);
          OutboundChannel ch = channels.get(frame.channel());
          int credits = body.readInt();
          if (credits <= 0) {
            throw new Frames.FrameException("CREDIT of " + credits);
          }
          if (ch != null) {
            ch.addCredits(credits);
          }
        }
        case Frames.PING -> { }
        default -> throw new Frames.FrameException("unexpected " + Frames.typeName(frame.type())
            + " frame from the receiving side");
      }
    } finally {
      body.release();
    }
  }

  private void onChallenge(ChannelHandlerContext ctx, ByteBuf body) {
    if (proofSent) {
      throw new Frames.FrameException("a second CHALLENGE");
    }
    Handshake.Challenge c = Handshake.Challenge.read(body);
    if (!c.serverId().equals(peerId)) {
      fail(ctx, "reached another worker (" + c.serverId() + ") instead of", null);
      return;
    }
    String wrong = handshake.verify(c.mac(), "server", nonce, c.nonce(), selfId, peerId);
    if (wrong != null) {
      fail(ctx, "failed the handshake (" + wrong + ") with", null);
      return;
    }
    proofSent = true;
    ctx.writeAndFlush(handshake.proof(ctx.alloc(), nonce, c, selfId));
  }

  private void requireReady(Frames.Frame frame) {
    if (!ready.isDone()) {
      throw new Frames.FrameException(Frames.typeName(frame.type()) + " before the handshake");
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    fail(ctx, "lost to", null);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Throwable c = cause instanceof io.netty.handler.codec.DecoderException d
        && d.getCause() != null ? d.getCause() : cause;
    fail(ctx, "failed to", c);
  }

  /** Fails the connection (and every channel on it) unless it has failed already. */
  void fail(ChannelHandlerContext ctx, String what, Throwable cause) {
    failWith(new PeerConnectionException(peerId, address, what, cause));
    if (ctx != null) {
      ctx.close();
    }
  }

  /** The socket could not even be connected. */
  void failWith(PeerConnectionException error) {
    synchronized (this) {
      if (failure != null) {
        return;
      }
      failure = error;
    }
    if (channels.isEmpty()) {
      // Nothing was using it (a peer shutting down, an idle connection): not a problem.
      LOG.info("{}", error.getMessage());
    } else {
      LOG.warn("{} ({} channel(s) failed)", error.getMessage(), channels.size());
    }
    ready.completeExceptionally(error);
    onClosed.run();
    for (OutboundChannel ch : channels.values()) {
      ch.fail(error);
    }
    channels.clear();
  }

  /**
   * Closes the connection: its channels fail (their buffers are freed, parked producers resume
   * and find the failure).
   */
  void close(String why) {
    failWith(new PeerConnectionException(peerId, address, "closed (" + why + ") to", null));
    Channel ch = channel;
    if (ch != null) {
      ch.close();
    }
  }
}
