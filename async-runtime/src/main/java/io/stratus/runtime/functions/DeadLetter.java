package io.stratus.runtime.functions;

import java.io.Serializable;

/**
 * A record whose processing threw, sent to the dead-letter sink of its operator instead of
 * failing the job (when the job chose that with {@code process(...).deadLettersTo(sink, n)}).
 *
 * @param record    the record as the operator received it
 * @param key       its key, as text
 * @param timestamp its event timestamp, or {@link Long#MIN_VALUE}
 * @param error     the exception, as text (class and message)
 * @param attempts  how many times the operator ran the record before giving up
 * @param <T>       the record type
 */
public record DeadLetter<T>(T record, String key, long timestamp, String error, int attempts)
    implements Serializable {}
