import { encodeDenseWeights, encodeSparseUpdate, type Weights } from '@vtrain/protocol';
import type { LiveRun } from '../runs/live-run.js';

/** One run's dense encoding, valid while the run is at `version`. */
interface DenseEncoding {
  readonly version: number;
  readonly payload: Uint8Array;
}

/**
 * Builds the weights replies of one coordinator process, all stamped with its
 * restart epoch (a new one per start: after a crash the run resumes at its
 * checkpoint and reaches the same version numbers with other weights).
 *
 * The dense weights are encoded once per run and version and the bytes shared
 * by every reply at that version: a pull costs the coordinator a lookup, not a
 * pass over P floats, so a flood of pulls (or every worker pulling at once
 * after a restart) cannot turn a 60-byte request into a full re-encode each.
 */
export class WeightsReplies {
  private readonly dense = new WeakMap<LiveRun, DenseEncoding>();
  /** Dense encodings made so far (for tests: N pulls at one version encode once). */
  denseEncodings = 0;

  constructor(readonly epoch: string) {}

  /**
   * The model for worker `workerId`, which holds `haveVersion` of `haveEpoch`:
   * a patch (new values) or a step (f16 differences) of at most the run's
   * downstream budget of coordinates of the broadcast model every worker
   * follows (`WorkerReplicas`), or the full weights when the worker has
   * nothing, a version of another epoch (version 0 is the same in all), or a
   * version the coordinator cannot account for. An update's acknowledgement
   * passes this process's own epoch: the coordinator's records of what it sent
   * (`WorkerReplicas`) live in memory and so are of this epoch by construction.
   */
  reply(
    run: LiveRun,
    workerId: string,
    haveVersion: number | undefined,
    haveEpoch: string | undefined,
  ): Weights {
    const { engine } = run;
    const version = engine.version;
    const sameHistory = haveVersion === 0 || haveEpoch === this.epoch;
    const have = sameHistory ? haveVersion : undefined;
    const reply = run.downstream.reply(workerId, have, engine);
    if (reply.kind !== 'dense') {
      // A step's values are f16-exact by construction (the broadcast model moved by exactly these).
      const step = reply.kind === 'step';
      const payload = encodeSparseUpdate(
        {
          length: engine.parameterCount,
          indices: reply.indices,
          values: step ? reply.steps : reply.values,
        },
        { valueFormat: step ? 'f16' : 'f32' },
      );
      return {
        type: 'weights',
        runId: run.id,
        version,
        epoch: this.epoch,
        encoding: step ? 'sparse-step' : 'sparse-patch',
        fromVersion: reply.fromVersion,
        payload,
      };
    }
    return {
      type: 'weights',
      runId: run.id,
      version,
      epoch: this.epoch,
      encoding: 'dense',
      payload: this.denseAt(run),
    };
  }

  /** The dense weights of the run's current version, encoded at most once per version. */
  private denseAt(run: LiveRun): Uint8Array {
    const { engine } = run;
    const cached = this.dense.get(run);
    if (cached?.version === engine.version) return cached.payload;
    const tensors = run.model.layout.map((slice) => ({
      name: slice.name,
      shape: [...slice.shape],
      data: engine.weights.subarray(slice.offset, slice.offset + slice.size),
    }));
    const payload = encodeDenseWeights({ tensors });
    this.denseEncodings += 1;
    this.dense.set(run, { version: engine.version, payload });
    return payload;
  }
}
