import { encodeDenseWeights, encodeSparseUpdate, type Weights } from '@vtrain/protocol';
import type { LiveRun } from '../runs/live-run.js';

/**
 * The model for a worker that holds `haveVersion`: a sparse patch with the
 * new values of the coordinates changed since then when that is smaller than
 * the full weights, else the full weights. Patches carry values, not
 * differences, so the worker's copy ends bit-identical (see the protocol).
 */
export function weightsMessage(run: LiveRun, haveVersion: number | undefined): Weights {
  const { engine } = run;
  const version = engine.version;
  const changed = engine.patchCoordinates(haveVersion);
  if (changed && haveVersion !== undefined) {
    const weights = engine.weights;
    const values = new Float32Array(changed.length);
    for (let i = 0; i < changed.length; i++) values[i] = weights[changed[i] ?? 0] ?? 0;
    const payload = encodeSparseUpdate(
      { length: engine.parameterCount, indices: changed, values },
      { valueFormat: 'f32' },
    );
    return {
      type: 'weights',
      runId: run.id,
      version,
      encoding: 'sparse-patch',
      fromVersion: haveVersion,
      payload,
    };
  }
  const tensors = run.model.layout.map((slice) => ({
    name: slice.name,
    shape: [...slice.shape],
    data: engine.weights.subarray(slice.offset, slice.offset + slice.size),
  }));
  return {
    type: 'weights',
    runId: run.id,
    version,
    encoding: 'dense',
    payload: encodeDenseWeights({ tensors }),
  };
}
