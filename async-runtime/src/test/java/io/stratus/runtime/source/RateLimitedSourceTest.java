package io.stratus.runtime.source;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stratus.runtime.serde.Serdes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class RateLimitedSourceTest {

  private static List<Long> values(List<SourceRecord<Long>> batch) {
    return batch.stream().map(SourceRecord::value).toList();
  }

  @Test
  void aReaderReturnsAnEmptyBatchRightAfterItsCreation() {
    // 10/s: the first record is due 100 ms after the reader's creation.
    RateLimitedSource<Long> source = new RateLimitedSource<>(new SequenceSource(0, 1_000_000),
        10);
    SourceReader<Long> reader = source.createReader(0, 1);
    List<SourceRecord<Long>> batch = reader.poll(100);
    assertNotNull(batch, "not the end of the split");
    assertEquals(List.of(), batch);
    assertEquals(0, offset(reader));
  }

  @Test
  void eachReaderKeepsItsOwnPace() throws Exception {
    RateLimitedSource<Long> source = new RateLimitedSource<>(new SequenceSource(0, 1_000_000),
        20);
    long created = System.nanoTime();
    SourceReader<Long> first = source.createReader(0, 2);
    List<Long> firstRead = new ArrayList<>();
    await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(5)).until(() -> {
      firstRead.addAll(values(first.poll(100)));
      // Never ahead of 20 records per second since its creation.
      long allowed = (System.nanoTime() - created) / 1_000_000 * 20 / 1000;
      assertTrue(firstRead.size() <= allowed, firstRead.size() + " > " + allowed);
      return firstRead.size() >= 3;
    });
    assertEquals(List.of(0L, 2L, 4L), firstRead.subList(0, 3), "split 0 of 2");
    // A reader created now starts from nothing, whatever the first one read.
    SourceReader<Long> second = source.createReader(1, 2);
    assertEquals(List.of(), second.poll(100));
    AtomicReference<List<SourceRecord<Long>>> batch = new AtomicReference<>();
    await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(5)).until(() -> {
      batch.set(second.poll(100));
      return !batch.get().isEmpty();
    });
    // The first record of split 1, due 50 ms after the second reader was created.
    assertEquals(1L, values(batch.get()).get(0));
    assertTrue(batch.get().size() <= 2, String.valueOf(values(batch.get())));
  }

  @Test
  void holdsEachReaderToTheRateByWallClock() throws Exception {
    RateLimitedSource<Long> source = new RateLimitedSource<>(new SequenceSource(0, 1_000_000),
        1000);
    SourceReader<Long> reader = source.createReader(0, 1);
    List<Long> read = new ArrayList<>();
    long start = System.nanoTime();
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10)).until(() -> {
      List<SourceRecord<Long>> batch = reader.poll(10_000);
      assertNotNull(batch);
      read.addAll(values(batch));
      return read.size() >= 300;
    });
    // 300 records at 1000/s cannot come sooner than 300 ms after the reader's creation.
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertTrue(millis >= 299, read.size() + " records in " + millis + " ms");
    // In order, without gaps: the wrapped reader's records, only paced.
    for (int i = 0; i < read.size(); i++) {
      assertEquals(i, read.get(i));
    }
    assertEquals(read.size(), offset(reader));
  }

  @Test
  void aBatchIsNeverLargerThanAsked() throws Exception {
    SourceReader<Long> reader = new RateLimitedSource<>(new SequenceSource(0, 1_000_000),
        100_000).createReader(0, 1);
    List<Long> read = new ArrayList<>();
    int[] largest = new int[1];
    await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(2)).until(() -> {
      List<SourceRecord<Long>> batch = reader.poll(7);
      assertTrue(batch.size() <= 7, "a batch of " + batch.size());
      largest[0] = Math.max(largest[0], batch.size());
      read.addAll(values(batch));
      return read.size() >= 70;
    });
    // At 100,000/s far more than 7 are due between polls: batches are cut at 7.
    assertEquals(7, largest[0]);
    for (int i = 0; i < read.size(); i++) {
      assertEquals(i, read.get(i));
    }
    assertEquals(read.size(), offset(reader));
  }

  @Test
  void offsetsAndSeekPassThrough() throws Exception {
    SourceReader<Long> reader = new RateLimitedSource<>(new SequenceSource(0, 10_000), 1000)
        .createReader(0, 1);
    reader.seek(Map.of(OffsetReader.SPLIT, 5_000L));
    assertEquals(5_000, offset(reader));
    AtomicReference<List<SourceRecord<Long>>> first = new AtomicReference<>();
    await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(5)).until(() -> {
      List<SourceRecord<Long>> batch = reader.poll(3);
      first.set(batch);
      return !batch.isEmpty();
    });
    List<Long> got = values(first.get());
    assertFalse(got.isEmpty());
    assertEquals(5_000L, got.get(0));
    assertEquals(5_000 + got.size(), offset(reader));
    assertEquals(5_000L, first.get().get(0).timestamp(), "the wrapped record, unchanged");
  }

  @Test
  void collectionSourceOffsetsPassThroughToo() {
    SourceReader<String> reader = new RateLimitedSource<>(
        new CollectionSource<>(List.of("a", "b", "c", "d", "e")), 1000).createReader(0, 1);
    reader.seek(Map.of(OffsetReader.SPLIT, 3L));
    assertEquals(3, offset(reader));
    List<String> read = new ArrayList<>();
    await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(5)).until(() -> {
      List<SourceRecord<String>> batch = reader.poll(10);
      if (batch == null) {
        return true;
      }
      batch.forEach(r -> read.add(r.value()));
      return false;
    });
    assertEquals(List.of("d", "e"), read);
    assertEquals(5, offset(reader));
  }

  @Test
  void theEndOfABoundedSourceIsStillNull() {
    RateLimitedSource<Long> source = new RateLimitedSource<>(new SequenceSource(1, 20), 1000);
    assertTrue(source.bounded());
    SourceReader<Long> reader = source.createReader(0, 1);
    List<Long> read = new ArrayList<>();
    AtomicBoolean ended = new AtomicBoolean();
    await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(5)).until(() -> {
      List<SourceRecord<Long>> batch = reader.poll(100);
      if (batch == null) {
        ended.set(true);
        return true;
      }
      read.addAll(values(batch));
      return false;
    });
    assertTrue(ended.get());
    List<Long> expected = new ArrayList<>();
    for (long i = 1; i <= 20; i++) {
      expected.add(i);
    }
    assertEquals(expected, read);
    assertNull(reader.poll(100), "an ended split stays ended");
    reader.close();
  }

  @Test
  void keepsTheWrappedSourcesSerdeAndBoundedness() {
    SequenceSource numbers = new SequenceSource(0, 1);
    RateLimitedSource<Long> limited = new RateLimitedSource<>(numbers, 5);
    assertSame(Serdes.LONG, limited.serde());
    assertTrue(limited.bounded());
    Source<Long> unbounded = new Source<>() {
      @Override
      public SourceReader<Long> createReader(int split, int splits) {
        throw new UnsupportedOperationException();
      }

      @Override
      public boolean bounded() {
        return false;
      }
    };
    assertFalse(new RateLimitedSource<>(unbounded, 5).bounded());
    assertNull(new RateLimitedSource<>(unbounded, 5).serde());
  }

  @Test
  void aRateBelowOneIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new RateLimitedSource<>(new SequenceSource(0, 1), 0));
    assertEquals("a rate limit must be at least 1 record/s, was 0", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new RateLimitedSource<>(new SequenceSource(0, 1), -5));
    assertEquals("a rate limit must be at least 1 record/s, was -5", e.getMessage());
    // 1/s is allowed: nothing is due before a second has passed.
    assertEquals(List.of(), new RateLimitedSource<>(new SequenceSource(0, 1), 1)
        .createReader(0, 1).poll(10));
  }

  private static long offset(SourceReader<?> reader) {
    return reader.position().get(OffsetReader.SPLIT);
  }
}
