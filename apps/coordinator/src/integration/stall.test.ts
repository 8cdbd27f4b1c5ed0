import type { RunConfigInput } from '@vtrain/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestCoordinator, waitFor } from './harness.js';
import { HELLO, connectRawWorker, sparsePayload, type RawSocket } from './raw-worker.js';

/*
 * Slow and stalled workers: a synchronous round closes at its deadline without
 * the straggler, the straggler's late update is handled by the run's stated
 * rule, and a socket that stops reading is cut before its unread answers grow
 * the coordinator's memory without bound.
 */

/** The client's TCP socket under socket.io-client's websocket (the `ws` package's `_socket`). */
interface PausableSocket {
  pause(): void;
  destroy(): void;
}

function syncRun(lateUpdates: 'next-round' | 'reject', hiddenUnits = [8]): RunConfigInput {
  return {
    name: `stall ${lateUpdates}`,
    dataset: { name: 'synthetic', shards: 2 },
    model: { kind: 'mlp', hiddenUnits },
    schedule: { kind: 'sync', deadline: { minMs: 500, maxMs: 1000 }, lateUpdates },
    evaluation: { everyVersions: 1000, testExamples: 100 },
    stop: { maxSeconds: 600 },
  };
}

async function join(url: string): Promise<{ socket: RawSocket; parameterCount: number }> {
  const socket = await connectRawWorker(url);
  const welcome = await socket.emitWithAck('hello', HELLO);
  if (welcome.type !== 'welcome' || !welcome.assignment) throw new Error('no run');
  return { socket, parameterCount: welcome.assignment.parameterCount };
}

function update(runId: string, seq: number, baseVersion: number, parameterCount: number) {
  return {
    type: 'update' as const,
    runId,
    seq,
    baseVersion,
    steps: 1,
    samples: 32,
    trainLoss: 1,
    computeMs: 5,
    payload: sparsePayload(parameterCount, [[seq, 0.01]]),
  };
}

describe('slow and stalled workers', () => {
  let coordinator: TestCoordinator;
  beforeAll(async () => {
    coordinator = await TestCoordinator.start();
  });
  afterAll(async () => {
    await coordinator.stop();
  });

  it.each([
    { lateUpdates: 'next-round' as const, expected: { type: 'ack', status: 'buffered' } },
    { lateUpdates: 'reject' as const, expected: { type: 'reject', reason: 'late' } },
  ])(
    'a round closes at its deadline without the straggler; its late update: $lateUpdates',
    async ({ lateUpdates, expected }) => {
      const id = await coordinator.createRun(syncRun(lateUpdates));
      const prompt = await join(coordinator.url);
      const straggler = await join(coordinator.url);
      try {
        const closed = new Promise<number>((resolve) => {
          prompt.socket.once('version', (notice) => {
            resolve(notice.version);
          });
        });
        const ack = await prompt.socket.emitWithAck(
          'update',
          update(id, 0, 0, prompt.parameterCount),
        );
        expect(ack).toMatchObject({ type: 'ack', status: 'buffered' });
        // The straggler never answers: the deadline closes the round with one update.
        expect(await closed).toBe(1);
        expect(coordinator.coordinator.manager.liveRun(id)?.engine.counters.updatesApplied).toBe(1);
        // Back, late: computed on version 0, the round of version 0 is over.
        const late = await straggler.socket.emitWithAck(
          'update',
          update(id, 0, 0, straggler.parameterCount),
        );
        expect(late).toMatchObject(expected);
      } finally {
        prompt.socket.disconnect();
        straggler.socket.disconnect();
        await coordinator.api(`/api/runs/${id}/stop`, { method: 'POST' });
      }
    },
  );

  it('cuts a socket that stops reading while it asks for weights; memory stays bounded', async () => {
    // 784-512-10: 407k parameters, 1.6 MB of dense weights per answer.
    const id = await coordinator.createRun(syncRun('next-round', [512]));
    const live = coordinator.coordinator.manager.liveRun(id);
    const { socket } = await join(coordinator.url);
    let tcp: PausableSocket | undefined;
    try {
      expect(live?.workers.size).toBe(1);
      // Stop reading: the coordinator's answers can only queue up on its side.
      tcp = (socket.io.engine as unknown as { transport: { ws: { _socket: PausableSocket } } })
        .transport.ws._socket;
      tcp.pause();
      const rssBefore = process.memoryUsage().rss;
      let sent = 0;
      while (live?.workers.size === 1 && sent < 400) {
        socket.emit('pull', { type: 'pull', runId: id }, () => undefined);
        sent += 1;
        await new Promise((resolve) => setTimeout(resolve, 25)); // under the rate limit
      }
      await waitFor('the stalled socket to be cut', 30_000, () =>
        Promise.resolve(live?.workers.size === 0 ? true : undefined),
      );
      const grown = process.memoryUsage().rss - rssBefore;
      console.log(
        `stall: cut after ${sent} unread pulls (${((sent * 1.63e6) / 2 ** 20).toFixed(0)} MiB asked for), ` +
          `RSS grew ${(grown / 2 ** 20).toFixed(0)} MiB`,
      );
      expect(sent).toBeLessThan(400);
      expect(grown).toBeLessThan(256 * 2 ** 20);
    } finally {
      // A peer that never reads never finishes the close handshake: drop its connection.
      tcp?.destroy();
      socket.disconnect();
      await coordinator.api(`/api/runs/${id}/stop`, { method: 'POST' });
    }
  });
});
