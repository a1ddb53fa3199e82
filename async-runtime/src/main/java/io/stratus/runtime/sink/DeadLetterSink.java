package io.stratus.runtime.sink;

import io.stratus.runtime.functions.DeadLetter;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The dead-letter side output of a keyed operator: a sink and how many times a record is run
 * before it is dead-lettered. Set with {@code process(...).deadLettersTo(sink, maxAttempts)}.
 *
 * @param <T> the operator's input records
 */
public final class DeadLetterSink<T> implements Sink<DeadLetter<T>> {

  /** The side-output id under which an operator's dead letters are written and committed. */
  public static final String TAG_ID = "dead-letters";

  private final Sink<DeadLetter<T>> delegate;
  private final int maxAttempts;

  public DeadLetterSink(Sink<DeadLetter<T>> delegate, int maxAttempts) {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("dead letters need maxAttempts >= 1, was "
          + maxAttempts);
    }
    this.delegate = delegate;
    this.maxAttempts = maxAttempts;
  }

  /** Runs of a record whose code throws before it is dead-lettered (1: no retry). */
  public int maxAttempts() {
    return maxAttempts;
  }

  @Override
  public SinkWriter<DeadLetter<T>> createWriter(int subtask, int parallelism) {
    return delegate.createWriter(subtask, parallelism);
  }

  @Override
  public CompletableFuture<Void> commit(List<String> committables) {
    return delegate.commit(committables);
  }

  @Override
  public CompletableFuture<Integer> abortStaged(Instant before, Set<String> keep) {
    return delegate.abortStaged(before, keep);
  }
}
