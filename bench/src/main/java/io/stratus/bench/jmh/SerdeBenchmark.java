package io.stratus.bench.jmh;

import io.stratus.runtime.serde.Serde;
import io.stratus.runtime.serde.Serdes;
import io.stratus.runtime.source.Payment;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The record serde that {@code Serdes.record} derives, against Java serialization of the same
 * record: round-trip time per record (the encoded sizes are printed once).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
public class SerdeBenchmark {

  /** Java serialization needs Serializable; same fields as Payment. */
  record JavaPayment(long id, long userId, long amountCents, String merchant, long timestamp)
      implements Serializable {}

  private final Serde<Payment> serde = Serdes.record(Payment.class);
  private final Payment payment = new Payment(123456789L, 4242L, 1999L, "electronics",
      1_790_000_000_000L);
  private final JavaPayment javaPayment = new JavaPayment(123456789L, 4242L, 1999L,
      "electronics", 1_790_000_000_000L);

  @Benchmark
  public Payment recordSerdeRoundTrip() {
    return serde.fromBytes(serde.toBytes(payment));
  }

  @Benchmark
  public Object javaSerializationRoundTrip() throws IOException, ClassNotFoundException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(javaPayment);
    }
    try (ObjectInputStream in = new ObjectInputStream(
        new ByteArrayInputStream(bytes.toByteArray()))) {
      return in.readObject();
    }
  }

  /** Prints the encoded sizes. */
  public static void main(String[] args) throws IOException {
    SerdeBenchmark b = new SerdeBenchmark();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(b.javaPayment);
    }
    System.out.println("record serde: " + b.serde.toBytes(b.payment).length
        + " bytes; Java serialization: " + bytes.size() + " bytes");
  }
}
