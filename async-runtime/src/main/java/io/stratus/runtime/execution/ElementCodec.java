package io.stratus.runtime.execution;

import io.netty.buffer.ByteBuf;

/**
 * How stream elements travel in a data-plane buffer (docs/data-plane.md): one type byte, then
 * the element's fields, big-endian; a buffer holds whole elements of one channel. The channel's
 * input index is not written: the consumer knows it from the channel's name.
 *
 * <pre>
 * RECORD        1  i64 timestamp, i32 length, value
 * KEYED_RECORD  2  i64 timestamp, u16 key group, i32 length, key, i32 length, value
 * WATERMARK     3  i64 timestamp
 * STATUS        4  u8 idle (0 or 1)
 * BARRIER       5  i64 checkpoint id
 * END           6
 * </pre>
 */
final class ElementCodec {

  private static final byte RECORD = 1;
  private static final byte KEYED_RECORD = 2;
  private static final byte WATERMARK = 3;
  private static final byte STATUS = 4;
  private static final byte BARRIER = 5;
  private static final byte END = 6;

  private ElementCodec() {}

  /** The bytes {@link #write} takes for {@code e}. */
  static int size(StreamElement e) {
    if (e instanceof StreamElement.Record r) {
      return r.keyBytes() == null ? 1 + 8 + 4 + r.value().length
          : 1 + 8 + 2 + 4 + r.keyBytes().length + 4 + r.value().length;
    }
    if (e instanceof StreamElement.Watermark || e instanceof StreamElement.Barrier) {
      return 9;
    }
    return e instanceof StreamElement.WatermarkStatus ? 2 : 1;
  }

  static void write(StreamElement e, ByteBuf out) {
    if (e instanceof StreamElement.Record r) {
      if (r.keyBytes() == null) {
        out.writeByte(RECORD);
        out.writeLong(r.timestamp());
      } else {
        out.writeByte(KEYED_RECORD);
        out.writeLong(r.timestamp());
        out.writeShort(r.keyGroup());
        out.writeInt(r.keyBytes().length);
        out.writeBytes(r.keyBytes());
      }
      out.writeInt(r.value().length);
      out.writeBytes(r.value());
    } else if (e instanceof StreamElement.Watermark w) {
      out.writeByte(WATERMARK);
      out.writeLong(w.timestamp());
    } else if (e instanceof StreamElement.WatermarkStatus s) {
      out.writeByte(STATUS);
      out.writeByte(s.idle() ? 1 : 0);
    } else if (e instanceof StreamElement.Barrier b) {
      out.writeByte(BARRIER);
      out.writeLong(b.checkpointId());
    } else {
      out.writeByte(END);
    }
  }

  /** The next element of {@code in}, as from channel {@code input}; {@link #validate}d before. */
  static StreamElement read(ByteBuf in, int input) {
    byte type = in.readByte();
    switch (type) {
      case RECORD: {
        long ts = in.readLong();
        return new StreamElement.Record(input, bytes(in), ts, null, -1);
      }
      case KEYED_RECORD: {
        long ts = in.readLong();
        int keyGroup = in.readUnsignedShort();
        byte[] key = bytes(in);
        return new StreamElement.Record(input, bytes(in), ts, key, keyGroup);
      }
      case WATERMARK:
        return new StreamElement.Watermark(input, in.readLong());
      case STATUS:
        return new StreamElement.WatermarkStatus(input, in.readByte() == 1);
      case BARRIER:
        return new StreamElement.Barrier(input, in.readLong());
      case END:
        return new StreamElement.End(input);
      default:
        throw new IllegalArgumentException("element type " + type);
    }
  }

  /**
   * Checks that {@code buf} is a sequence of whole, well-formed elements, without consuming it:
   * a buffer that fails this is refused as a whole, so no part of it reaches an operator.
   *
   * @throws IllegalArgumentException naming what is wrong and where
   */
  static void validate(ByteBuf buf) {
    int i = buf.readerIndex();
    int end = buf.writerIndex();
    while (i < end) {
      byte type = buf.getByte(i);
      int at = i;
      i += 1;
      switch (type) {
        case RECORD -> {
          i = need(i, 8, end, at);
          i = lengthPrefixed(buf, i, end, at);
        }
        case KEYED_RECORD -> {
          i = need(i, 10, end, at);
          i = lengthPrefixed(buf, i, end, at);
          i = lengthPrefixed(buf, i, end, at);
        }
        case WATERMARK, BARRIER -> i = need(i, 8, end, at);
        case STATUS -> {
          i = need(i, 1, end, at);
          if ((buf.getByte(i - 1) & 0xFE) != 0) {
            throw new IllegalArgumentException("idleness flag " + buf.getByte(i - 1)
                + " at byte " + at);
          }
        }
        case END -> { }
        default -> throw new IllegalArgumentException("unknown element type " + type
            + " at byte " + at);
      }
    }
  }

  private static int need(int i, int n, int end, int at) {
    if (end - i < n) {
      throw new IllegalArgumentException("element at byte " + at + " is truncated");
    }
    return i + n;
  }

  private static int lengthPrefixed(ByteBuf buf, int i, int end, int at) {
    i = need(i, 4, end, at);
    int len = buf.getInt(i - 4);
    if (len < 0) {
      throw new IllegalArgumentException("negative length " + len + " at byte " + at);
    }
    return need(i, len, end, at);
  }

  private static byte[] bytes(ByteBuf in) {
    byte[] b = new byte[in.readInt()];
    in.readBytes(b);
    return b;
  }
}
