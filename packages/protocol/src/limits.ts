import { maxEncodedSparseUpdateSize, type SparseValueFormat } from './codec/index.js';

/**
 * Largest model a run may have. 20M float32 parameters are 80 MB of weights,
 * about what a volunteer's tab can hold twice (model + error memory) next to
 * the training activations.
 */
export const MAX_PARAMETER_COUNT = 20_000_000;

/**
 * Room for the JSON part of a message (ids, counters, socket.io framing); the
 * schemas bound every string, so no legitimate envelope comes near it.
 */
export const MESSAGE_ENVELOPE_BYTES = 16 * 1024;

/**
 * The largest legitimate update message of a run (docs/architecture.md#3-the-wire: size
 * `maxHttpBufferSize` from it, not 100 MB): its sparse payload at exactly k
 * entries (`topKCount` of the optimizer, which both ends use), bounded above,
 * plus the envelope. Anything larger is hostile.
 */
export function maxUpdateMessageBytes(
  parameterCount: number,
  k: number,
  valueFormat: SparseValueFormat,
): number {
  return maxEncodedSparseUpdateSize(parameterCount, k, valueFormat) + MESSAGE_ENVELOPE_BYTES;
}
