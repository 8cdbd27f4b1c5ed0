import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Assignment, RunConfigInput, Welcome } from '@vtrain/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { WorkerLimits } from '../net/admission.js';
import { startCoordinator, type Coordinator } from '../server.js';
import { HELLO, connectRawWorker, sparsePayload, type RawSocket, welcomed } from './raw-worker.js';

/*
 * What a volunteer costs and what it is believed: new identities and
 * connections are limited per source address (X-Forwarded-For only behind a
 * trusted proxy) and in total, with a typed refusal; an update's staleness and
 * step time come from the coordinator's record of what it sent the worker,
 * not from the worker's claims; pulls are limited per connection, the dense
 * weights are encoded once per version, and the bytes sent per second have a
 * global budget.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

async function coordinatorWith(limits: Partial<WorkerLimits>): Promise<Coordinator> {
  const dataDir = await mkdtemp(join(tmpdir(), 'vtrain-ids-'));
  const coordinator = await startCoordinator({
    port: 0,
    dataDir,
    token: 'test-researcher-token',
    log: () => undefined,
    workerLimits: limits,
  });
  cleanups.push(async () => {
    await coordinator.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  return coordinator;
}

async function connect(url: string, headers?: Record<string, string>): Promise<RawSocket> {
  const socket = await connectRawWorker(url, headers ? { extraHeaders: headers } : {});
  cleanups.push(() => {
    socket.disconnect();
    return Promise.resolve();
  });
  return socket;
}

async function hello(socket: RawSocket, resume?: Welcome) {
  return socket.emitWithAck('hello', {
    ...HELLO,
    ...(resume ? { resume: { workerId: resume.workerId, secret: resume.secret } } : {}),
  });
}

function runConfig(schedule: RunConfigInput['schedule']): RunConfigInput {
  return {
    name: 'identities',
    dataset: { name: 'synthetic', shards: 2 },
    model: { kind: 'mlp', hiddenUnits: [8] },
    schedule,
    evaluation: { everyVersions: 100_000, testExamples: 100 },
    stop: { maxSeconds: 600 },
  };
}

describe('identities and connections cost something', () => {
  it('refuses new identities beyond the per-address bucket with a typed error; resuming stays free', async () => {
    const coordinator = await coordinatorWith({
      identityBurstPerAddress: 3,
      identitiesPerSecondPerAddress: 0.001,
    });
    const socket = await connect(coordinator.url);
    const first = await welcomed(socket);
    await welcomed(socket);
    await welcomed(socket);
    const refused = await hello(socket);
    expect(refused).toMatchObject({ type: 'error', code: 'rate-limited' });
    expect(refused.type === 'error' && refused.message).toContain('new worker identities');
    // Resuming an identity is not a new one: still welcomed, under the same id.
    const resumed = await welcomed(socket, first);
    expect(resumed.workerId).toBe(first.workerId);
  });

  it('refuses connections beyond the per-address limit at the handshake, and admits again once one closes', async () => {
    const coordinator = await coordinatorWith({ connectionsPerAddress: 2 });
    const a = await connect(coordinator.url);
    await connect(coordinator.url);
    const refusal = await connect(coordinator.url).then(
      () => undefined,
      (error: unknown) => error as Error & { data?: unknown },
    );
    expect(refusal?.message).toContain('worker connections from this address');
    expect(refusal?.data).toMatchObject({ type: 'error', code: 'rate-limited' });
    a.disconnect();
    // The server sees the close a moment later.
    for (let attempt = 0; ; attempt++) {
      const ok = await connect(coordinator.url).then(
        () => true,
        () => false,
      );
      if (ok) break;
      if (attempt > 40) throw new Error('never admitted again');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  it('takes the address from X-Forwarded-For only behind a trusted proxy', async () => {
    const limits = { identityBurstPerAddress: 1, identitiesPerSecondPerAddress: 0.001 };
    const direct = await coordinatorWith(limits);
    await welcomed(await connect(direct.url, { 'x-forwarded-for': '203.0.113.1' }));
    // Untrusted: the header is ignored, both sockets are 127.0.0.1, the bucket is spent.
    const spoofed = await hello(await connect(direct.url, { 'x-forwarded-for': '203.0.113.2' }));
    expect(spoofed).toMatchObject({ type: 'error', code: 'rate-limited' });

    const proxied = await coordinatorWith({ ...limits, trustProxy: true });
    await welcomed(await connect(proxied.url, { 'x-forwarded-for': '10.0.0.9, 203.0.113.1' }));
    // Another client behind the proxy (the last entry is the proxy's own view of it).
    await welcomed(await connect(proxied.url, { 'x-forwarded-for': '203.0.113.2' }));
    // The same client again: its bucket is spent, whatever it put in front of the proxy's entry.
    const again = await hello(
      await connect(proxied.url, { 'x-forwarded-for': '198.51.100.7, 203.0.113.1' }),
    );
    expect(again).toMatchObject({ type: 'error', code: 'rate-limited' });
  });

  it('limits new identities in total too', async () => {
    const coordinator = await coordinatorWith({
      trustProxy: true,
      identityBurstTotal: 2,
      identitiesPerSecondTotal: 0.001,
    });
    await welcomed(await connect(coordinator.url, { 'x-forwarded-for': '192.0.2.1' }));
    await welcomed(await connect(coordinator.url, { 'x-forwarded-for': '192.0.2.2' }));
    const third = await hello(await connect(coordinator.url, { 'x-forwarded-for': '192.0.2.3' }));
    expect(third).toMatchObject({ type: 'error', code: 'rate-limited' });
  });
});

describe('claims are not trusted', () => {
  it('takes staleness from the version the coordinator sent, not the claimed base', async () => {
    const coordinator = await coordinatorWith({});
    const id = await coordinator.manager.createRun(runConfig({ kind: 'async' }));
    const liar = await connect(coordinator.url);
    const honest = await connect(coordinator.url);
    const liarWelcome = await welcomed(liar);
    await welcomed(honest);
    const P = (liarWelcome.assignment as Assignment).parameterCount;
    // The liar holds version 0 (built from the seed, or pulled now).
    const pulled = await liar.emitWithAck('pull', { type: 'pull', runId: id, haveVersion: 0 });
    expect(pulled).toMatchObject({ type: 'weights', version: 0 });
    await honest.emitWithAck('pull', { type: 'pull', runId: id, haveVersion: 0 });
    const push = (seq: number, baseVersion: number, computeMs = 5) => ({
      type: 'update' as const,
      runId: id,
      seq,
      baseVersion,
      steps: 1,
      samples: 32,
      trainLoss: 1,
      computeMs,
      payload: sparsePayload(P, [[seq % P, 1e-4]]),
    });
    // The honest worker moves the model to version 5.
    for (let seq = 0; seq < 5; seq++) {
      const ack = await honest.emitWithAck('update', push(seq, seq));
      expect(ack).toMatchObject({ type: 'ack', status: 'applied', staleness: 0 });
    }
    // The liar claims the current version as its base: it was sent version 0.
    const lie = await liar.emitWithAck('update', push(0, 5));
    expect(lie).toMatchObject({ type: 'ack', status: 'applied', version: 6, staleness: 5 });
    // Now sent version 6 (with the ack): an honest claim of 6 is believed.
    const truthful = await liar.emitWithAck('update', push(1, 6));
    expect(truthful).toMatchObject({ type: 'ack', status: 'applied', staleness: 0 });
  });

  it('sizes round deadlines from round trips it observed, not from the claimed compute time', async () => {
    const coordinator = await coordinatorWith({});
    const id = await coordinator.manager.createRun(
      runConfig({ kind: 'sync', deadline: { minMs: 10, maxMs: 3_600_000 } }),
    );
    const liar = await connect(coordinator.url);
    const welcome = await welcomed(liar);
    const P = (welcome.assignment as Assignment).parameterCount;
    const run = coordinator.manager.liveRun(id);
    if (!run) throw new Error('run not live');
    const started = Date.now();
    for (let seq = 0; seq < 3; seq++) {
      const weights = await liar.emitWithAck('pull', { type: 'pull', runId: id });
      expect(weights.type).toBe('weights');
      const version = weights.type === 'weights' ? weights.version : -1;
      // Claims a day of compute per update: would hold every round open for an hour.
      const ack = await liar.emitWithAck('update', {
        type: 'update',
        runId: id,
        seq,
        baseVersion: version,
        steps: 1,
        samples: 32,
        trainLoss: 1,
        computeMs: 86_400_000,
        payload: sparsePayload(P, [[seq, 1e-4]]),
      });
      expect(ack).toMatchObject({ type: 'ack', status: 'applied' });
    }
    const elapsed = Date.now() - started;
    const { stepSamples: samples, batch } = run.engine.snapshot().schedule;
    expect(samples).toHaveLength(3);
    for (const sample of samples) {
      expect(sample).toBeGreaterThanOrEqual(0);
      expect(sample).toBeLessThanOrEqual(elapsed);
    }
    // The next round's deadline follows what was seen (clamped at maxMs it would be an hour).
    expect((batch.deadline ?? Infinity) - batch.openedAt).toBeLessThan(60_000);
  });
});

describe('no amplifiers', () => {
  it('encodes the dense weights once per version, however many pull them', async () => {
    const coordinator = await coordinatorWith({});
    const id = await coordinator.manager.createRun(runConfig({ kind: 'async' }));
    const sockets = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const socket = await connect(coordinator.url);
        await welcomed(socket);
        return socket;
      }),
    );
    const before = coordinator.weightsReplies.denseEncodings;
    const replies = [];
    for (let round = 0; round < 3; round++) {
      for (const socket of sockets) {
        replies.push(await socket.emitWithAck('pull', { type: 'pull', runId: id }));
      }
    }
    expect(replies.every((r) => r.type === 'weights' && r.encoding === 'dense')).toBe(true);
    expect(coordinator.weightsReplies.denseEncodings - before).toBe(1);
    console.log(
      `24 dense pulls at one version: ${coordinator.weightsReplies.denseEncodings - before} encoding`,
    );
  });

  it('limits pulls per connection and refuses beyond the global byte budget, saying why', async () => {
    const coordinator = await coordinatorWith({ pullBurst: 3, pullsPerSecond: 0.001 });
    const id = await coordinator.manager.createRun(runConfig({ kind: 'async' }));
    const socket = await connect(coordinator.url);
    await welcomed(socket);
    for (let i = 0; i < 3; i++) {
      expect((await socket.emitWithAck('pull', { type: 'pull', runId: id })).type).toBe('weights');
    }
    const refused = await socket.emitWithAck('pull', { type: 'pull', runId: id });
    expect(refused).toMatchObject({ type: 'error', code: 'rate-limited' });
    expect(refused.type === 'error' && refused.message).toContain('too many pulls');

    // A budget of one byte per second: the first dense model goes, the next waits minutes.
    const budgeted = await coordinatorWith({ bytesOutPerSecond: 1 });
    const runId = await budgeted.manager.createRun(runConfig({ kind: 'async' }));
    const a = await connect(budgeted.url);
    await welcomed(a);
    // The first reply fits a full bucket (a reply above one second's budget goes once it is full).
    expect((await a.emitWithAck('pull', { type: 'pull', runId })).type).toBe('weights');
    const over = await a.emitWithAck('pull', { type: 'pull', runId });
    expect(over).toMatchObject({ type: 'error', code: 'rate-limited' });
    expect(over.type === 'error' && over.message).toContain('upload budget');
  });
});
