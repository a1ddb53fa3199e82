package io.stratus.s3test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A TCP proxy on 127.0.0.1 between an S3 client and an S3 server that injects faults into real
 * HTTP/1.1 exchanges: error responses (503 SlowDown, 500), connection resets, stalled responses
 * and bodies cut short. One request per connection: the proxy asks the server to close after
 * its response, so a response is everything up to the end of the stream.
 */
final class FaultProxy implements AutoCloseable {

  /** What to do with one request. */
  sealed interface Fault {
    /** Forward it untouched. */
    record Pass() implements Fault {}

    /** Answer with this status and an S3 error body; the server never sees the request. */
    record Status(int status, String code) implements Fault {}

    /** Read the request, then reset the connection (RST, no response). */
    record Reset() implements Fault {}

    /** Forward it, but hold the response back this long. */
    record Stall(long millis) implements Fault {}

    /** Forward it and send the response head with half of the body, then close. */
    record ShortBody() implements Fault {}
  }

  static final Fault PASS = new Fault.Pass();

  private final URI upstream;
  private final int port;
  private volatile ServerSocket server;
  private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "fault-proxy");
    t.setDaemon(true);
    return t;
  });
  private final List<Socket> open = new ArrayList<>();
  private final ConcurrentHashMap<String, AtomicInteger> injected = new ConcurrentHashMap<>();
  /** Request lines, each followed by the body of a batched delete (which names its keys). */
  private final List<String> requests = new ArrayList<>();
  private volatile Function<String, Fault> plan = line -> PASS;
  private volatile boolean closed;

  FaultProxy(URI upstream) throws IOException {
    this.upstream = upstream;
    this.server = listen(0);
    this.port = server.getLocalPort();
    threads.execute(this::acceptLoop);
  }

  private static ServerSocket listen(int port) throws IOException {
    ServerSocket socket = new ServerSocket();
    socket.setReuseAddress(true);
    socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    return socket;
  }

  /**
   * Stops listening: connections to the endpoint are refused, as when the server's host is
   * down. Connections already open are cut.
   */
  synchronized void refuseConnections() throws IOException {
    server.close();
    closeOpenSockets();
  }

  /** Listens again on the same port after {@link #refuseConnections()}. */
  synchronized void acceptConnections() throws IOException {
    if (server.isClosed()) {
      server = listen(port);
      threads.execute(this::acceptLoop);
    }
  }

  /**
   * Every request so far: its request line, and after the line of a batched delete that got
   * through to its body, the XML body (it names the keys).
   */
  List<String> requests() {
    synchronized (requests) {
      return List.copyOf(requests);
    }
  }

  /** The proxy's address, to give the client as its endpoint. */
  URI endpoint() {
    return URI.create("http://127.0.0.1:" + port);
  }

  /**
   * Decides each request's fault from its request line ({@code GET /bucket/key?x HTTP/1.1}).
   */
  void plan(Function<String, Fault> value) {
    plan = value;
  }

  /** How many times each kind of fault was injected. */
  int injected(Class<? extends Fault> kind) {
    AtomicInteger n = injected.get(kind.getSimpleName());
    return n == null ? 0 : n.get();
  }

  /** A plan that gives {@code fault} to the first {@code n} requests, then passes. */
  static Function<String, Fault> firstN(int n, Fault fault) {
    AtomicInteger left = new AtomicInteger(n);
    return line -> left.getAndDecrement() > 0 ? fault : PASS;
  }

  private void acceptLoop() {
    ServerSocket listening = server;
    while (!closed) {
      try {
        Socket client = listening.accept();
        synchronized (open) {
          open.add(client);
        }
        threads.execute(() -> serve(client));
      } catch (IOException e) {
        return;
      }
    }
  }

  private void serve(Socket client) {
    try (client) {
      InputStream in = client.getInputStream();
      OutputStream out = client.getOutputStream();
      byte[] head = readHead(in);
      if (head == null) {
        return;
      }
      String headText = new String(head, StandardCharsets.ISO_8859_1);
      String requestLine = headText.substring(0, headText.indexOf("\r\n"));
      long length = contentLength(headText);
      boolean expectContinue = headText.toLowerCase(Locale.ROOT)
          .contains("\r\nexpect: 100-continue");
      synchronized (requests) {
        requests.add(requestLine);
      }
      Fault fault = plan.apply(requestLine);
      if (!(fault instanceof Fault.Pass)) {
        injected.computeIfAbsent(fault.getClass().getSimpleName(), k -> new AtomicInteger())
            .incrementAndGet();
      }
      if (fault instanceof Fault.Status s) {
        // Answer before the body: the client may not send it at all after a final status.
        byte[] body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + s.code()
            + "</Code><Message>injected by the fault proxy</Message></Error>")
            .getBytes(StandardCharsets.UTF_8);
        out.write(("HTTP/1.1 " + s.status() + " " + s.code() + "\r\nContent-Type: "
            + "application/xml\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n"
            + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
        return;
      }
      if (expectContinue) {
        out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
      }
      byte[] body = in.readNBytes((int) length);
      if (requestLine.startsWith("POST") && requestLine.contains("?delete")) {
        synchronized (requests) {
          requests.add(new String(body, StandardCharsets.UTF_8));
        }
      }
      if (fault instanceof Fault.Reset) {
        client.setSoLinger(true, 0);
        return;
      }
      try (Socket server = new Socket(upstream.getHost(), upstream.getPort())) {
        OutputStream up = server.getOutputStream();
        up.write(rewriteHead(headText).getBytes(StandardCharsets.ISO_8859_1));
        up.write(body);
        up.flush();
        byte[] response = server.getInputStream().readAllBytes();
        if (fault instanceof Fault.Stall st) {
          Thread.sleep(st.millis());
        }
        if (fault instanceof Fault.ShortBody) {
          int headEnd = indexOf(response, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1)) + 4;
          int keep = headEnd + (response.length - headEnd) / 2;
          out.write(response, 0, keep);
          out.flush();
          client.setSoLinger(true, 0);
          return;
        }
        out.write(response);
        out.flush();
      }
    } catch (IOException e) {
      // The client went away or the proxy closes: nothing to answer.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      synchronized (open) {
        open.remove(client);
      }
    }
  }

  /** Drops {@code Expect} (the proxy answered it) and asks the server to close afterwards. */
  private static String rewriteHead(String head) {
    StringBuilder out = new StringBuilder();
    for (String line : head.split("\r\n")) {
      String lower = line.toLowerCase(Locale.ROOT);
      if (line.isEmpty() || lower.startsWith("expect:") || lower.startsWith("connection:")) {
        continue;
      }
      out.append(line).append("\r\n");
    }
    return out.append("Connection: close\r\n\r\n").toString();
  }

  private static long contentLength(String head) {
    for (String line : head.split("\r\n")) {
      if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
        return Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
      }
      if (line.toLowerCase(Locale.ROOT).startsWith("transfer-encoding:")) {
        throw new IllegalStateException("the fault proxy does not relay chunked requests");
      }
    }
    return 0;
  }

  /** The request head up to and including the blank line, or null at end of stream. */
  private static byte[] readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    byte[] end = {'\r', '\n', '\r', '\n'};
    while (matched < 4) {
      int b = in.read();
      if (b < 0) {
        return null;
      }
      head.write(b);
      matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
    }
    return head.toByteArray();
  }

  private static int indexOf(byte[] data, byte[] pattern) {
    outer:
    for (int i = 0; i + pattern.length <= data.length; i++) {
      for (int j = 0; j < pattern.length; j++) {
        if (data[i + j] != pattern[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  @Override
  public void close() throws IOException {
    closed = true;
    server.close();
    closeOpenSockets();
    threads.shutdownNow();
  }

  private void closeOpenSockets() {
    synchronized (open) {
      for (Socket s : open) {
        try {
          s.close();
        } catch (IOException e) {
          // closing the rest matters more
        }
      }
    }
  }
}
