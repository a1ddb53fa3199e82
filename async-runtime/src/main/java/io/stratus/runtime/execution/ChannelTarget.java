package io.stratus.runtime.execution;

/**
 * Where a producer task puts the elements of one channel: the consumer's {@link TaskInbox} when
 * both tasks run in this process, or a {@link RemoteTarget} over the data plane when the
 * consumer runs on another worker. Operators never see which (placement decides).
 */
interface ChannelTarget {

  /** Passes an element on, in order with the channel's earlier ones; always succeeds. */
  void offer(StreamElement element);

  /** Whether the producer may take more input without overfilling this channel. */
  boolean hasSpace();

  /** Runs {@code resume} once (on any thread) when there is space again. */
  void whenSpace(Runnable resume);
}
