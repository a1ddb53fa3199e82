package io.stratus.network;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLException;

/**
 * A worker's data plane: one data server that peers dial to send this worker records, and one
 * connection to each peer this worker sends records to, over which every logical channel to
 * that peer is multiplexed ({@link OutboundChannel}; credits come back on it). So two workers
 * that exchange records both ways hold two connections, one per direction, as Flink's
 * TaskManagers do. The wire format and the protocol are in {@code docs/data-plane.md}.
 *
 * <p>Thread safety: every method may be called from any thread.
 */
public final class DataPlane implements AutoCloseable {

  private final String workerId;
  private final DataPlaneConfig config;
  private final ChannelAcceptor acceptor;
  private final Handshake handshake;
  private final EventLoopGroup group;
  private final SslContext serverTls;
  private final SslContext clientTls;
  private final Map<String, PeerConnection> peers = new ConcurrentHashMap<>();
  private final LongAdder bytesSent = new LongAdder();
  private volatile Channel server;
  private volatile boolean closed;

  /**
   * @param workerId this worker's id, which peers name when they dial it
   * @param acceptor finds the consumer of each channel a peer opens to this worker
   * @throws IllegalArgumentException if the TLS files cannot be read as certificates and key
   */
  public DataPlane(String workerId, DataPlaneConfig config, ChannelAcceptor acceptor) {
    this.workerId = workerId;
    this.config = config;
    this.acceptor = acceptor;
    this.handshake = new Handshake(config.secret());
    DataPlaneConfig.Tls tls = config.tls();
    try {
      this.serverTls = tls == null ? null : SslContextBuilder
          .forServer(tls.certificateChain().toFile(), tls.privateKey().toFile())
          .trustManager(tls.trustedCertificates().toFile()).clientAuth(ClientAuth.REQUIRE)
          .build();
      // Peers are dialed by address and proven by the trusted certificates and the cluster
      // secret, not by host name: no endpoint identification (Netty 4.2 turns it on).
      this.clientTls = tls == null ? null : SslContextBuilder.forClient()
          .keyManager(tls.certificateChain().toFile(), tls.privateKey().toFile())
          .trustManager(tls.trustedCertificates().toFile())
          .endpointIdentificationAlgorithm(null).build();
    } catch (SSLException | IllegalArgumentException e) {
      throw new IllegalArgumentException("the data plane's TLS files cannot be used ("
          + tls.certificateChain() + ", " + tls.privateKey() + ", " + tls.trustedCertificates()
          + "): " + e.getMessage(), e);
    }
    this.group = new MultiThreadIoEventLoopGroup(config.ioThreads(),
        new DefaultThreadFactory("stratus-data-" + workerId, true), NioIoHandler.newFactory());
  }

  public String workerId() {
    return workerId;
  }

  public DataPlaneConfig config() {
    return config;
  }

  /**
   * Starts the data server.
   *
   * @return the address it listens on (with the port it got if the config said 0); fails with
   *         a message naming the address if it cannot bind
   */
  public CompletableFuture<InetSocketAddress> start() {
    CompletableFuture<InetSocketAddress> bound = new CompletableFuture<>();
    ServerBootstrap b = new ServerBootstrap().group(group)
        .channel(NioServerSocketChannel.class)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.SO_KEEPALIVE, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            pipeline(ch, serverTls, null).addLast(new InboundConnection(workerId, config,
                handshake, acceptor));
          }
        });
    b.bind(config.bindHost(), config.port()).addListener((ChannelFuture f) -> {
      if (f.isSuccess()) {
        server = f.channel();
        bound.complete((InetSocketAddress) f.channel().localAddress());
      } else {
        String what = f.cause() instanceof BindException ? "is in use or not available"
            : "cannot be bound";
        bound.completeExceptionally(new IllegalStateException("the data port "
            + config.bindHost() + ":" + config.port() + " " + what + ": "
            + f.cause().getMessage(), f.cause()));
      }
    });
    return bound;
  }

  /** The address of the data server; null before {@link #start()} completed. */
  public InetSocketAddress address() {
    Channel s = server;
    return s == null ? null : (InetSocketAddress) s.localAddress();
  }

  /**
   * Opens a logical channel to worker {@code peer}, dialing it first if this worker has no
   * connection to it yet. Returns at once; elements written before the connection is ready
   * wait in the channel (and hold back the producer once its buffers are full). If the peer
   * cannot be reached, the channel fails (see {@link OutboundChannel#onFailure}).
   *
   * @param key the channel's name, which the peer's {@link ChannelAcceptor} resolves
   */
  public OutboundChannel open(String peer, InetSocketAddress address, String key) {
    if (closed) {
      throw new IllegalStateException("the data plane of worker " + workerId + " is closed");
    }
    if (!handshake.hasSecret() && !DataPlaneConfig.isLoopback(address.getHostString())) {
      throw new IllegalStateException("worker " + peer + " is at " + address.getHostString()
          + ", not on this host: without a cluster secret the data plane only reaches "
          + "loopback addresses");
    }
    PeerConnection known = peers.get(peer);
    if (known != null && !sameAddress(known.address(), address)) {
      // The peer came back elsewhere: the old connection leads nowhere.
      disconnect(peer, "worker " + peer + " moved to "
          + PeerConnectionException.format(address));
    }
    return peers.computeIfAbsent(peer, p -> dial(p, address)).open(key);
  }

  private static boolean sameAddress(InetSocketAddress a, InetSocketAddress b) {
    return a.getPort() == b.getPort() && a.getHostString().equals(b.getHostString());
  }

  /**
   * Closes this worker's connection to {@code peer}, failing every channel on it at once (the
   * peer is known to be gone, or is being drained).
   *
   * @return how many open channels it carried (0 if there was no connection)
   */
  public int disconnect(String peer, String reason) {
    PeerConnection c = peers.remove(peer);
    if (c == null) {
      return 0;
    }
    int channels = c.openChannels();
    c.close(reason);
    return channels;
  }

  /** Bytes of DATA frames this worker has written to its peers so far. */
  public long bytesSent() {
    return bytesSent.sum();
  }

  /** The connections this worker holds to the peers it sends to. */
  public int connections() {
    return peers.size();
  }

  private PeerConnection dial(String peer, InetSocketAddress address) {
    EventLoop loop = group.next();
    PeerConnection[] holder = new PeerConnection[1];
    PeerConnection connection = new PeerConnection(workerId, peer, address, config, handshake,
        loop, () -> peers.remove(peer, holder[0]), bytesSent);
    holder[0] = connection;
    Bootstrap b = new Bootstrap().group(loop).channel(NioSocketChannel.class)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.SO_KEEPALIVE, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.connectTimeout().toMillis())
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            connection.connected(ch);
            pipeline(ch, clientTls, address).addLast(connection);
          }
        });
    b.connect(address).addListener((ChannelFuture f) -> {
      if (!f.isSuccess()) {
        connection.failWith(new PeerConnectionException(peer, address, "cannot be opened to",
            f.cause()));
      }
    });
    return connection;
  }

  /** The handlers both ends share; {@code dialed} is the peer's address on the dialing side. */
  private ChannelPipeline pipeline(SocketChannel ch, SslContext tls, InetSocketAddress dialed) {
    ChannelPipeline p = ch.pipeline();
    if (tls != null) {
      p.addLast(dialed != null
          ? tls.newHandler(ch.alloc(), dialed.getHostString(), dialed.getPort())
          : tls.newHandler(ch.alloc()));
    }
    long timeout = config.peerTimeout().toMillis();
    p.addLast(new IdleStateHandler(timeout, Math.max(1, timeout / 3), 0, TimeUnit.MILLISECONDS));
    p.addLast(new Keepalive(timeout));
    p.addLast(new Frames.Decoder(config.maxFrameBytes()));
    return p;
  }

  /** Pings a quiet connection; closes one on which nothing arrived for the peer timeout. */
  private static final class Keepalive extends ChannelDuplexHandler {
    private final long timeoutMillis;

    Keepalive(long timeoutMillis) {
      this.timeoutMillis = timeoutMillis;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof IdleStateEvent idle) {
        if (idle.state() == IdleState.WRITER_IDLE) {
          ctx.writeAndFlush(Frames.control(ctx.alloc(), Frames.PING, 0, null),
              ctx.voidPromise());
        } else if (idle.state() == IdleState.READER_IDLE) {
          ctx.fireExceptionCaught(new java.util.concurrent.TimeoutException(
              "nothing received for " + timeoutMillis + " ms"));
        }
        return;
      }
      super.userEventTriggered(ctx, evt);
    }
  }

  /** Closes the server and every connection, and stops the event loops. */
  @Override
  public void close() {
    closed = true;
    peers.values().forEach(c -> c.close("this worker is shutting down"));
    peers.clear();
    Channel s = server;
    if (s != null) {
      s.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
  }
}
