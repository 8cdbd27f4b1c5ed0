import { decodeDenseWeights, type RunConfigInput } from '@vtrain/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCoordinator, spawnWorkers, stopWorkers, waitFor } from './harness.js';
import { HELLO, connectRawWorker, sparsePayload, type RawSocket, welcomed } from './raw-worker.js';

const synthetic = (
  schedule: RunConfigInput['schedule'],
  extra: Partial<RunConfigInput> = {},
): RunConfigInput => ({
  name: `it ${schedule.kind}`,
  dataset: { name: 'synthetic', shards: 4 },
  model: { kind: 'mlp', hiddenUnits: [16] },
  schedule,
  evaluation: { everyVersions: 20, testExamples: 500 },
  checkpoint: { everyVersions: 25, everySeconds: 1 },
  stop: { maxSeconds: 600 },
  ...extra,
});

describe('coordinator', () => {
  let coordinator: TestCoordinator;
  beforeAll(async () => {
    coordinator = await TestCoordinator.start();
  });
  afterAll(async () => {
    await coordinator.stop();
  });

  it('refuses invalid run configs with per-field messages, and unauthenticated changes, creating nothing', async () => {
    const before = ((await coordinator.api('/api/runs')).body as unknown[]).length;
    const invalid = await coordinator.api('/api/runs', {
      method: 'POST',
      body: {
        name: '',
        schedule: { kind: 'sync', deadline: { slack: 0 } },
        stop: {},
        compression: { density: 0 },
      },
    });
    expect(invalid.status).toBe(400);
    const refusal = invalid.body as { error: string; issues: { path: string }[] };
    expect(refusal.error).toBe('invalid-run-config');
    expect(refusal.issues.map((i) => i.path).sort()).toEqual([
      'compression.density',
      'name',
      'schedule.deadline.slack',
      'stop',
    ]);
    const noToken = await coordinator.api('/api/runs', {
      method: 'POST',
      body: synthetic({ kind: 'async' }),
      token: null,
    });
    expect(noToken.status).toBe(401);
    const wrongToken = await coordinator.api('/api/runs', {
      method: 'POST',
      body: synthetic({ kind: 'async' }),
      token: 'nope',
    });
    expect(wrongToken.status).toBe(401);
    expect(((await coordinator.api('/api/runs')).body as unknown[]).length).toBe(before);
  });

  it('answers invalid worker messages with typed errors and leaves the model untouched', async () => {
    const id = await coordinator.createRun(synthetic({ kind: 'async' }));
    const socket = await connectRawWorker(coordinator.url);
    try {
      const badHello = await socket.emitWithAck('hello', { ...HELLO, backend: 'cuda' } as never);
      expect(badHello).toMatchObject({ type: 'error', code: 'invalid-message' });
      const oldHello = await socket.emitWithAck('hello', { ...HELLO, protocolVersion: 0 });
      expect(oldHello).toMatchObject({ type: 'error', code: 'protocol-version' });
      const welcome = await welcomed(socket);
      const runId = welcome.assignment?.runId ?? '';
      expect(runId).toBe(id);
      const parameterCount = welcome.assignment?.parameterCount ?? 0;
      const live = coordinator.coordinator.manager.liveRun(id);
      const before = live?.engine.weights.slice();
      const update = {
        type: 'update',
        runId,
        seq: 1,
        baseVersion: 0,
        steps: 1,
        samples: 32,
        trainLoss: 1,
        computeMs: 5,
      } as const;
      const cases: [unknown, string][] = [
        [{ ...update, payload: 'AQID' }, 'invalid-message'],
        [{ ...update, payload: new Uint8Array([1, 2, 3]) }, 'invalid-payload'],
        [{ ...update, payload: sparsePayload(parameterCount + 1, [[0, 1]]) }, 'invalid-payload'],
        [
          { ...update, payload: sparsePayload(parameterCount, [[0, 1]]).fill(0xff, -4) },
          'non-finite',
        ],
        [
          { ...update, payload: new Uint8Array((live?.model.maxUpdateBytes ?? 0) + 1).fill(1) },
          'payload-too-large',
        ],
        [
          { ...update, runId: 'other-run', payload: sparsePayload(parameterCount, [[0, 1]]) },
          'run-not-active',
        ],
        [
          { ...update, baseVersion: 99, payload: sparsePayload(parameterCount, [[0, 1]]) },
          'future-version',
        ],
      ];
      for (const [message, reason] of cases) {
        const reply = await socket.emitWithAck('update', message as never);
        expect(reply, reason).toMatchObject({ type: 'reject', reason });
      }
      expect(live?.engine.weights).toEqual(before);
      expect(live?.engine.version).toBe(0);
    } finally {
      socket.disconnect();
      await coordinator.api(`/api/runs/${id}/stop`, { method: 'POST' });
    }
  });

  it('gives a late joiner the current model', async () => {
    const id = await coordinator.createRun(synthetic({ kind: 'async' }));
    const workers = spawnWorkers(coordinator.url, 2);
    try {
      await waitFor('version 60', 120_000, async () =>
        (await coordinator.run(id)).version >= 60 ? true : undefined,
      );
      const socket = await connectRawWorker(coordinator.url);
      const welcome = await welcomed(socket);
      expect(welcome.assignment?.runId).toBe(id);
      const pulled = await socket.emitWithAck('pull', { type: 'pull', runId: id });
      socket.disconnect();
      if (pulled.type !== 'weights') throw new Error(pulled.message);
      expect(pulled.encoding).toBe('dense');
      const flat = Float32Array.from(
        decodeDenseWeights(new Uint8Array(pulled.payload), {
          maxTensors: 16,
          maxElements: 1e6,
        }).tensors.flatMap((t) => [...t.data]),
      );
      // The weights of the version it was told, not the initial ones: a real late joiner would train from here.
      expect(pulled.version).toBeGreaterThanOrEqual(60);
      const initial = coordinator.coordinator.manager.liveRun(id)?.engine.parameterCount;
      expect(flat.length).toBe(initial);
      expect(flat.some((w, i) => w !== 0 && i > 0)).toBe(true);
    } finally {
      await stopWorkers(workers);
      await coordinator.api(`/api/runs/${id}/stop`, { method: 'POST' });
    }
  }, 180_000);

  it('a worker leaving mid-round does not stall a synchronous round', async () => {
    const id = await coordinator.createRun(
      synthetic({ kind: 'sync', deadline: { minMs: 30_000, maxMs: 60_000 } }), // a deadline far away
    );
    const stayer = await connectRawWorker(coordinator.url);
    const leaver = await connectRawWorker(coordinator.url);
    try {
      const welcome = await welcomed(stayer);
      await welcomed(leaver);
      const parameterCount = welcome.assignment?.parameterCount ?? 0;
      const nextVersion = new Promise<number>((resolve) => {
        stayer.once('version', (notice) => {
          resolve(notice.version);
        });
      });
      const ack = await stayer.emitWithAck('update', {
        type: 'update',
        runId: id,
        seq: 0,
        baseVersion: 0,
        steps: 1,
        samples: 32,
        trainLoss: 2,
        computeMs: 5,
        payload: sparsePayload(parameterCount, [[3, 0.5]]),
      });
      expect(ack).toMatchObject({ type: 'ack', status: 'buffered' });
      const leftAt = Date.now();
      leaver.disconnect();
      expect(await nextVersion).toBe(1);
      expect(Date.now() - leftAt).toBeLessThan(10_000); // the round closed on the leave, not at the 30 s deadline
    } finally {
      stayer.disconnect();
      await coordinator.api(`/api/runs/${id}/stop`, { method: 'POST' });
    }
  });

  it('sends version notices only to workers waiting on a buffered update, once per wait', async () => {
    const id = await coordinator.createRun(
      synthetic({ kind: 'sync', deadline: { minMs: 30_000, maxMs: 60_000 } }),
    );
    const first = await connectRawWorker(coordinator.url);
    const second = await connectRawWorker(coordinator.url);
    try {
      const parameterCount = (await welcomed(first)).assignment?.parameterCount ?? 0;
      await welcomed(second);
      const heard = { first: [] as number[], second: [] as number[] };
      first.on('version', (notice) => heard.first.push(notice.version));
      second.on('version', (notice) => heard.second.push(notice.version));
      const send = (socket: RawSocket, seq: number, baseVersion: number) =>
        socket.emitWithAck('update', {
          type: 'update',
          runId: id,
          seq,
          baseVersion,
          steps: 1,
          samples: 32,
          trainLoss: 2,
          computeMs: 5,
          payload: sparsePayload(parameterCount, [[seq, 0.5]]),
        });
      // Round 1: the first waits, the second closes the round and learns the version from its ack.
      expect(await send(first, 0, 0)).toMatchObject({ status: 'buffered' });
      expect(await send(second, 0, 0)).toMatchObject({ status: 'applied', version: 1 });
      await waitFor('the notice of version 1', 10_000, () =>
        Promise.resolve(heard.first.length > 0 ? true : undefined),
      );
      // Round 2, the other way round.
      expect(await send(second, 1, 1)).toMatchObject({ status: 'buffered' });
      expect(await send(first, 1, 1)).toMatchObject({ status: 'applied', version: 2 });
      await waitFor('the notice of version 2', 10_000, () =>
        Promise.resolve(heard.second.length > 0 ? true : undefined),
      );
      // A ping round trip on each socket: any further notice would have arrived before it.
      await Promise.all(
        [first, second].map((socket) => socket.emitWithAck('pull', { type: 'pull', runId: id })),
      );
      expect(heard).toEqual({ first: [1], second: [2] });
    } finally {
      first.disconnect();
      second.disconnect();
      await coordinator.api(`/api/runs/${id}/stop`, { method: 'POST' });
    }
  });

  it('resumes a run after a restart with its version and metrics intact', async () => {
    const id = await coordinator.createRun(synthetic({ kind: 'async' }));
    const workers = spawnWorkers(coordinator.url, 2);
    await waitFor('version 100', 120_000, async () =>
      (await coordinator.run(id)).version >= 100 ? true : undefined,
    );
    await stopWorkers(workers);
    const beforeVersion = (await coordinator.run(id)).version;
    const beforeMetrics = await coordinator.metrics(id);
    await coordinator.restart();
    const after = await coordinator.run(id);
    expect(after.status).toBe('active');
    // A graceful stop writes a final checkpoint: nothing is lost.
    expect(after.version).toBe(beforeVersion);
    const afterMetrics = await coordinator.metrics(id);
    expect(afterMetrics.slice(0, beforeMetrics.length)).toEqual(beforeMetrics);
    // And it trains on from there.
    const more = spawnWorkers(coordinator.url, 1);
    try {
      // A fresh worker process (tfjs, the shard) on a machine every package's tests share.
      await waitFor('progress after restart', 150_000, async () =>
        (await coordinator.run(id)).version >= beforeVersion + 20 ? true : undefined,
      );
    } finally {
      await stopWorkers(more);
      await coordinator.api(`/api/runs/${id}/stop`, { method: 'POST' });
    }
  }, 360_000);
});
