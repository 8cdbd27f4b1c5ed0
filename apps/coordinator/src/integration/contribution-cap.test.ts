import type { RunConfigInput } from '@vtrain/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCoordinator } from './harness.js';
import { HELLO, connectRawWorker, sparsePayload, type RawSocket } from './raw-worker.js';

/* One identity cannot weigh more than one worker: the per-worker cap of an asynchronous run. */

const config: RunConfigInput = {
  name: 'cap',
  dataset: { name: 'synthetic', shards: 2 },
  model: { kind: 'mlp', hiddenUnits: [8] },
  schedule: { kind: 'async' },
  contributionCap: { window: 8, slack: 1 },
  evaluation: { everyVersions: 1000, testExamples: 100 },
  stop: { maxSeconds: 600 },
};

interface Worker {
  readonly socket: RawSocket;
  seq: number;
}

describe('per-worker contribution cap', () => {
  let coordinator: TestCoordinator;
  beforeAll(async () => {
    coordinator = await TestCoordinator.start();
  });
  afterAll(async () => {
    await coordinator.stop();
  });

  it('refuses a worker over its share of the window until the others catch up', async () => {
    const id = await coordinator.createRun(config);
    const live = coordinator.coordinator.manager.liveRun(id);
    if (!live) throw new Error('run not live');
    const join = async (): Promise<Worker> => {
      const socket = await connectRawWorker(coordinator.url);
      await socket.emitWithAck('hello', HELLO);
      return { socket, seq: 0 };
    };
    const [a, b] = [await join(), await join()];
    const push = async (worker: Worker): Promise<{ type: string }> => {
      const reply: { type: string } = await worker.socket.emitWithAck('update', {
        type: 'update',
        runId: id,
        seq: worker.seq,
        baseVersion: live.engine.version,
        steps: 1,
        samples: 32,
        trainLoss: 1,
        computeMs: 5,
        payload: sparsePayload(live.engine.parameterCount, [[worker.seq, 0.001]]),
      });
      if (reply.type === 'ack') worker.seq += 1; // a refused seq may be used again
      return reply;
    };
    try {
      // Two workers, window 8, slack 1: at most 4 each.
      for (let i = 0; i < 4; i++) expect(await push(a)).toMatchObject({ status: 'applied' });
      expect(await push(a)).toMatchObject({ type: 'reject', reason: 'rate-limited' });
      for (let i = 0; i < 4; i++) expect(await push(b)).toMatchObject({ status: 'applied' });
      // The window is full (a a a a b b b b): a's oldest leaves next, so a may go, b may not.
      expect(await push(a)).toMatchObject({ status: 'applied' });
      expect(await push(b)).toMatchObject({ type: 'reject', reason: 'rate-limited' });
      expect(live.engine.version).toBe(9);
      expect(live.engine.counters.updatesRejected['rate-limited']).toBe(2);
    } finally {
      a.socket.disconnect();
      b.socket.disconnect();
      await coordinator.api(`/api/runs/${id}/stop`, { method: 'POST' });
    }
  });
});
