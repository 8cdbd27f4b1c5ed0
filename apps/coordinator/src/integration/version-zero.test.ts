import { assignmentDatasetInfo, buildInitialModel, weightsHash } from '@vtrain/ml';
import { AssignmentSchema, decodeSparseUpdate, parseMessage } from '@vtrain/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCoordinator } from './harness.js';
import { connectRawWorker, sparsePayload, welcomed, sameBits } from './raw-worker.js';

/** Applies a sparse patch (new values) or step (differences, added in float32) to a worker's copy. */
function applyPatch(
  copy: Float32Array,
  weights: { encoding: string; payload: ArrayBuffer | Uint8Array },
): number {
  if (weights.encoding !== 'sparse-patch' && weights.encoding !== 'sparse-step')
    throw new Error(`expected a patch, got ${weights.encoding}`);
  const patch = decodeSparseUpdate(new Uint8Array(weights.payload), {
    maxLength: copy.length,
    maxCount: copy.length,
    expectedLength: copy.length,
  });
  const step = weights.encoding === 'sparse-step';
  patch.indices.forEach((index, j) => {
    copy[index] = (step ? (copy[index] ?? 0) : 0) + (patch.values[j] ?? 0);
  });
  return patch.indices.length;
}

describe('version 0 built by the worker', () => {
  let coordinator: TestCoordinator;

  beforeAll(async () => {
    coordinator = await TestCoordinator.start();
  });

  afterAll(async () => {
    await coordinator.stop();
  });

  it('the assignment lets a worker build the coordinator version 0 bit for bit; joins and reconnects get patches', async () => {
    const id = await coordinator.createRun({
      name: 'version zero',
      seed: 1234,
      dataset: { name: 'synthetic', shards: 2 },
      model: { kind: 'mlp', hiddenUnits: [16] },
      compression: { density: 0.05 },
      schedule: { kind: 'async' },
      evaluation: { everyVersions: 1000, testExamples: 100 },
      stop: { maxSeconds: 600 },
    });
    const run = coordinator.coordinator.manager.liveRun(id);
    if (!run) throw new Error('run not live');
    const coordinatorV0 = run.engine.weights.slice(); // version 0: nothing applied yet
    let socket = await connectRawWorker(coordinator.url);
    try {
      const welcome = await welcomed(socket);
      // What the worker received, validated as a worker validates it.
      const assignment = parseMessage(AssignmentSchema, welcome.assignment, 'assignment');
      expect(assignment.initialWeights.seed).toBe(1234);
      // The worker's entry point: the spec, data set and seed of its assignment.
      const built = await buildInitialModel(
        assignment.model,
        assignmentDatasetInfo(assignment.dataset),
        assignment.initialWeights.seed,
        { maxParameters: assignment.parameterCount },
      );
      built.model.dispose();
      const workerCopy = built.weights;
      expect(workerCopy.length).toBe(assignment.parameterCount);
      expect(sameBits(workerCopy, coordinatorV0)).toBe(true);
      expect(weightsHash(workerCopy)).toBe(assignment.initialWeights.sha256);

      // Holding version 0, the worker pulls a patch (empty: nothing applied yet), never the model.
      const first = await socket.emitWithAck('pull', { type: 'pull', runId: id, haveVersion: 0 });
      if (first.type !== 'weights') throw new Error(first.message);
      expect(first).toMatchObject({ encoding: 'sparse-patch', fromVersion: 0, version: 0 });
      expect(applyPatch(workerCopy, first)).toBe(0);

      const P = assignment.parameterCount;
      const ack = await socket.emitWithAck('update', {
        type: 'update',
        runId: id,
        seq: 0,
        baseVersion: 0,
        steps: 1,
        samples: 32,
        trainLoss: 2,
        computeMs: 5,
        payload: sparsePayload(P, [
          [3, 0.5],
          [40, -0.25],
        ]),
      });
      if (ack.type !== 'ack' || ack.weights === undefined) throw new Error(JSON.stringify(ack));
      expect(ack).toMatchObject({ status: 'applied', version: 1 });
      expect(ack.weights).toMatchObject({ encoding: 'sparse-patch', fromVersion: 0 });
      expect(applyPatch(workerCopy, ack.weights)).toBe(2);
      expect(sameBits(workerCopy, run.engine.weights)).toBe(true);

      // A reconnect under the same identity is answered with a patch from the version it holds.
      socket.disconnect();
      socket = await connectRawWorker(coordinator.url);
      const again = await welcomed(socket, welcome);
      expect(again.workerId).toBe(welcome.workerId);
      expect(again.epoch).toBe(welcome.epoch);
      const resumed = await socket.emitWithAck('pull', {
        type: 'pull',
        runId: id,
        haveVersion: 1,
        haveEpoch: welcome.epoch,
      });
      if (resumed.type !== 'weights') throw new Error(resumed.message);
      expect(resumed).toMatchObject({ encoding: 'sparse-patch', fromVersion: 1, version: 1 });
      expect(resumed.epoch).toBe(welcome.epoch);

      // Version 1 of another epoch (or of none named) is other weights: the dense model.
      for (const haveEpoch of ['another-epoch', undefined]) {
        const other = await socket.emitWithAck('pull', {
          type: 'pull',
          runId: id,
          haveVersion: 1,
          ...(haveEpoch === undefined ? {} : { haveEpoch }),
        });
        if (other.type !== 'weights') throw new Error(other.message);
        expect(other.encoding).toBe('dense');
      }

      // Only a worker with nothing gets the dense weights.
      const dense = await socket.emitWithAck('pull', { type: 'pull', runId: id });
      if (dense.type !== 'weights') throw new Error(dense.message);
      expect(dense.encoding).toBe('dense');
    } finally {
      socket.disconnect();
      await coordinator.api(`/api/runs/${id}/stop`, { method: 'POST' });
    }
  }, 120_000);

  it('with f16 steps, a worker one version behind gets the step and lands on the broadcast model bit for bit', async () => {
    const id = await coordinator.createRun({
      name: 'steps',
      seed: 99,
      dataset: { name: 'synthetic', shards: 2 },
      model: { kind: 'mlp', hiddenUnits: [16] },
      compression: { density: 0.05, downstreamValueFormat: 'f16', downstreamDensity: 0.5 },
      schedule: { kind: 'async' },
      evaluation: { everyVersions: 1000, testExamples: 100 },
      stop: { maxSeconds: 600 },
    });
    const run = coordinator.coordinator.manager.liveRun(id);
    if (!run) throw new Error('run not live');
    const copy = run.engine.weights.slice(); // version 0, as the worker builds it
    const socket = await connectRawWorker(coordinator.url);
    try {
      await welcomed(socket);
      const P = copy.length;
      for (let seq = 0; seq < 3; seq++) {
        const ack = await socket.emitWithAck('update', {
          type: 'update',
          runId: id,
          seq,
          baseVersion: seq,
          steps: 1,
          samples: 32,
          trainLoss: 2,
          computeMs: 5,
          payload: sparsePayload(P, [
            [3 + seq, 0.0123],
            [40, -0.0071 * (seq + 1)],
          ]),
        });
        if (ack.type !== 'ack' || ack.weights === undefined) throw new Error(JSON.stringify(ack));
        expect(ack).toMatchObject({ status: 'applied', version: seq + 1 });
        expect(ack.weights).toMatchObject({ encoding: 'sparse-step', fromVersion: seq });
        expect(applyPatch(copy, ack.weights)).toBe(2);
        expect(sameBits(copy, run.downstream.broadcast)).toBe(true);
      }
      // The broadcast is the global model up to f16's rounding of each step.
      run.engine.weights.forEach((x, i) => {
        expect(Math.abs(x - (copy[i] ?? 0))).toBeLessThanOrEqual(
          Math.max(2 ** -10 * Math.abs(x), 2 ** -20),
        );
      });
    } finally {
      socket.disconnect();
      await coordinator.api(`/api/runs/${id}/stop`, { method: 'POST' });
    }
  }, 120_000);
});
