package io.stratus.runtime.sink;

/**
 * Where a job's output goes; one writer per parallel task.
 *
 * @param <T> the records
 */
public interface Sink<T> {

  SinkWriter<T> createWriter(int subtask, int parallelism);
}
