import type { RunEngine } from '@vtrain/coordinator/run-engine';
import { encodedSparseUpdateSize } from '@vtrain/protocol';

/**
 * Bytes per patch entry the coordinator budgets when it decides between a
 * sparse patch and the full weights (apps/coordinator/src/net/weights-message.ts:
 * a 5-byte varint gap and 4 value bytes). Mirrored here because that module is
 * wired to a LiveRun; the decision rule and the codec sizes are the same.
 */
const PATCH_BYTES_PER_ENTRY = 9;

/** What a weights reply to a worker holding `haveVersion` weighs on the wire. */
export interface WeightsReply {
  readonly encoding: 'sparse-patch' | 'dense';
  readonly bytes: number;
}

/**
 * The size of the reply the coordinator would send: the encoded sparse patch of
 * the coordinates changed since `haveVersion` when that is smaller than the
 * full weights, else the dense weights (whose encoded size is fixed per model).
 */
export function weightsReply(
  engine: RunEngine,
  haveVersion: number | undefined,
  denseBytes: number,
): WeightsReply {
  if (haveVersion !== undefined && haveVersion <= engine.version) {
    const maxEntries = Math.floor((engine.parameterCount * 4) / PATCH_BYTES_PER_ENTRY);
    const changed = engine.changedSince(haveVersion, maxEntries);
    if (changed) {
      const bytes = encodedSparseUpdateSize(
        {
          length: engine.parameterCount,
          indices: changed,
          values: new Float32Array(changed.length),
        },
        'f32',
      );
      return { encoding: 'sparse-patch', bytes };
    }
  }
  return { encoding: 'dense', bytes: denseBytes };
}
