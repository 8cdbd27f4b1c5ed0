import type { RunEngine } from '@vtrain/coordinator/run-engine';
import { encodedSparseUpdateSize } from '@vtrain/protocol';

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
  const changed = engine.patchCoordinates(haveVersion);
  if (changed) {
    const bytes = encodedSparseUpdateSize(
      { length: engine.parameterCount, indices: changed, values: new Float32Array(changed.length) },
      'f32',
    );
    return { encoding: 'sparse-patch', bytes };
  }
  return { encoding: 'dense', bytes: denseBytes };
}
