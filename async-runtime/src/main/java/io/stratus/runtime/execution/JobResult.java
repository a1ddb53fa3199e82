package io.stratus.runtime.execution;

import java.util.Map;

/**
 * What a finished job reports.
 *
 * @param name           the job's name
 * @param durationMillis from start to the last task's end
 * @param recordsIn      records each task took in, by task name
 * @param maxInFlight    the most records a keyed task had in flight at once, by task name
 */
public record JobResult(String name, long durationMillis, Map<String, Long> recordsIn,
    Map<String, Integer> maxInFlight) {}
