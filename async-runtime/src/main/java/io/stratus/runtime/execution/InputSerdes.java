package io.stratus.runtime.execution;

import io.stratus.runtime.serde.Serde;

/**
 * How a task decodes what arrives on each channel of its inbox: the records' serde of the
 * channel's edge, and on {@code keyBy} edges the key's.
 *
 * @param values by channel, the records' serde
 * @param keys   by channel, the key's serde (null on edges that are not {@code keyBy})
 */
record InputSerdes(Serde<?>[] values, Serde<?>[] keys) {}
