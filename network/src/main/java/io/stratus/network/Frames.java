package io.stratus.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The frame format of the data plane (docs/data-plane.md):
 *
 * <pre>
 * u32 length    bytes after this field: 9 + body
 * u8  type      HELLO, CHALLENGE, PROOF, WELCOME, REJECT, OPEN, CREDIT, DATA, CLOSE, PING
 * u32 channel   the logical channel (numbered by the side that opened it); 0 for none
 * ... body
 * u32 crc32c    of type, channel and body
 * </pre>
 *
 * A DATA frame is built in place: the producer reserves the header in its pooled buffer, writes
 * records after it and seals it ({@link #seal}), so a buffer is sent without a copy.
 */
final class Frames {

  static final byte HELLO = 1;
  static final byte CHALLENGE = 2;
  static final byte PROOF = 3;
  static final byte WELCOME = 4;
  static final byte REJECT = 5;
  static final byte OPEN = 6;
  static final byte CREDIT = 7;
  static final byte DATA = 8;
  static final byte CLOSE = 9;
  static final byte PING = 10;

  /** length + type + channel. */
  static final int HEADER = 9;
  static final int TRAILER = 4;
  /** Frames before the handshake completes are small: a stranger cannot make us buffer much. */
  static final int MAX_HANDSHAKE_FRAME = 1024;

  private Frames() {}

  /** A frame as received: its body is a slice of the connection's buffer, retained. */
  record Frame(byte type, int channel, ByteBuf body) {}

  static String typeName(byte type) {
    return switch (type) {
      case HELLO -> "HELLO";
      case CHALLENGE -> "CHALLENGE";
      case PROOF -> "PROOF";
      case WELCOME -> "WELCOME";
      case REJECT -> "REJECT";
      case OPEN -> "OPEN";
      case CREDIT -> "CREDIT";
      case DATA -> "DATA";
      case CLOSE -> "CLOSE";
      case PING -> "PING";
      default -> "unknown type " + type;
    };
  }

  /** A buffer for a frame whose body is about {@code bodyBytes}, with the header reserved. */
  static ByteBuf allocate(ByteBufAllocator alloc, int bodyBytes) {
    ByteBuf buf = alloc.buffer(HEADER + bodyBytes + TRAILER);
    buf.writerIndex(HEADER);
    return buf;
  }

  /** Fills in the header and appends the checksum of a buffer from {@link #allocate}. */
  static ByteBuf seal(ByteBuf buf, byte type, int channel) {
    int end = buf.writerIndex();
    buf.setInt(0, end - 4 + TRAILER);
    buf.setByte(4, type);
    buf.setInt(5, channel);
    CRC32C crc = new CRC32C();
    crc.update(buf.nioBuffer(4, end - 4));
    buf.writeInt((int) crc.getValue());
    return buf;
  }

  static ByteBuf control(ByteBufAllocator alloc, byte type, int channel, ByteBuf body) {
    ByteBuf buf = allocate(alloc, body == null ? 0 : body.readableBytes());
    if (body != null) {
      buf.writeBytes(body);
      body.release();
    }
    return seal(buf, type, channel);
  }

  static ByteBuf credit(ByteBufAllocator alloc, int channel, int credits) {
    ByteBuf buf = allocate(alloc, 4);
    buf.writeInt(credits);
    return seal(buf, CREDIT, channel);
  }

  static ByteBuf open(ByteBufAllocator alloc, int channel, String key) {
    byte[] bytes = key.getBytes(StandardCharsets.UTF_8);
    ByteBuf buf = allocate(alloc, bytes.length);
    buf.writeBytes(bytes);
    return seal(buf, OPEN, channel);
  }

  static void writeString(ByteBuf buf, String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    buf.writeShort(bytes.length);
    buf.writeBytes(bytes);
  }

  static String readString(ByteBuf buf) {
    int len = buf.readUnsignedShort();
    if (len > buf.readableBytes()) {
      throw new FrameException("a string of " + len + " bytes in a frame of "
          + buf.readableBytes());
    }
    return buf.readCharSequence(len, StandardCharsets.UTF_8).toString();
  }

  /** A frame that breaks the format: the connection that sent it is closed. */
  static final class FrameException extends RuntimeException {
    FrameException(String message) {
      super(message);
    }
  }

  /**
   * Splits the byte stream into frames, checking length and checksum before a frame goes on:
   * a truncated or corrupted frame never reaches a channel.
   */
  static final class Decoder extends ByteToMessageDecoder {
    private final int maxFrameBytes;
    private boolean authenticated;

    Decoder(int maxFrameBytes) {
      this.maxFrameBytes = maxFrameBytes;
    }

    /** After the handshake, frames up to the configured maximum are accepted. */
    void authenticated() {
      authenticated = true;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
      while (in.readableBytes() >= 4) {
        int start = in.readerIndex();
        long length = in.getUnsignedInt(start);
        long max = (authenticated ? maxFrameBytes : MAX_HANDSHAKE_FRAME) + 5L + TRAILER;
        if (length < 5 + TRAILER || length > max) {
          throw new FrameException("frame length " + length + " outside 9.." + max
              + (authenticated ? "" : " (handshake not complete)"));
        }
        if (in.readableBytes() < 4 + length) {
          return;
        }
        int crcAt = start + 4 + (int) length - TRAILER;
        CRC32C crc = new CRC32C();
        crc.update(in.nioBuffer(start + 4, (int) length - TRAILER));
        if ((int) crc.getValue() != in.getInt(crcAt)) {
          throw new FrameException("frame checksum mismatch (" + length + " bytes)");
        }
        byte type = in.getByte(start + 4);
        int channel = in.getInt(start + 5);
        ByteBuf body = in.retainedSlice(start + HEADER, crcAt - start - HEADER);
        in.readerIndex(crcAt + TRAILER);
        out.add(new Frame(type, channel, body));
      }
    }
  }
}
