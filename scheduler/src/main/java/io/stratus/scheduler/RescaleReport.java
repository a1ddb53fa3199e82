package io.stratus.scheduler;

import java.util.Map;

/**
 * What a rescale did and how long each phase took. A rescale to the parallelism the job runs
 * at changes nothing: its report has checkpoint -1, the running attempt and no time.
 *
 * @param job               the job
 * @param from              keyed operators' parallelism before
 * @param to                the parallelism asked for
 * @param checkpointId      the checkpoint the new attempt restored from; -1 if nothing changed
 * @param attempt           the attempt that runs at the new parallelism
 * @param checkpointMillis  the halting checkpoint: trigger to completed {@code _metadata}
 * @param stopMillis        canceling the old attempt's tasks
 * @param deployMillis      deploying the new tasks, which open their key groups by pointers
 * @param firstRecordMillis from the new attempt running to its first processed record
 * @param totalMillis       from the call to the first record processed at the new parallelism
 */
public record RescaleReport(String job, Map<String, Integer> from, Map<String, Integer> to,
    long checkpointId, int attempt, long checkpointMillis, long stopMillis, long deployMillis,
    long firstRecordMillis, long totalMillis) {}
