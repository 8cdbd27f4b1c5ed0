import { encodeDenseWeights, encodeSparseUpdate, type Weights } from '@vtrain/protocol';
import type { LiveRun } from '../runs/live-run.js';

/**
 * The model for worker `workerId`, which holds `haveVersion`: a patch of the
 * new values of at most the run's downstream budget of coordinates, the
 * largest differences between the global model and the worker's copy
 * (`WorkerReplicas`), or the full weights when the worker has nothing or a
 * version the coordinator cannot account for.
 */
export function weightsMessage(
  run: LiveRun,
  workerId: string,
  haveVersion: number | undefined,
): Weights {
  const { engine } = run;
  const version = engine.version;
  const reply = run.downstream.reply(workerId, haveVersion, engine);
  if (reply.kind === 'patch') {
    const payload = encodeSparseUpdate(
      { length: engine.parameterCount, indices: reply.indices, values: reply.values },
      { valueFormat: 'f32' },
    );
    return {
      type: 'weights',
      runId: run.id,
      version,
      encoding: 'sparse-patch',
      fromVersion: reply.fromVersion,
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
