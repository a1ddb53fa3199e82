package io.stratus.runtime.source;

/**
 * A card payment, the record of {@link PaymentGenerator}.
 *
 * @param id          unique, increasing per split
 * @param userId      the paying user
 * @param amountCents the amount
 * @param merchant    where
 * @param timestamp   event time, epoch milliseconds
 */
public record Payment(long id, long userId, long amountCents, String merchant, long timestamp) {}
