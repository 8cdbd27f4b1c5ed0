import { encodeShard, parameterLayout, readFlatWeights, weightsHash } from '@vtrain/ml';
import { decodeSparseUpdate } from '@vtrain/protocol';
import { useFastestNodeBackend } from '@vtrain/ml/node';
import { mulberry32 } from '@vtrain/optimizer';
import { PROTOCOL_VERSION, type Assignment, type UpdatePush } from '@vtrain/protocol';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SessionError } from './session-error.js';
import { WorkerSession, type SessionTiming } from './session.js';
import type { WorkerStatus } from './status.js';
import { FakeCoordinator } from './test-support/fake-coordinator.js';
import {
  buildTestModel,
  firstDifference,
  repeatedExample,
  smallSynthetic,
  testAssignment,
} from './test-support/fixtures.js';

beforeAll(async () => {
  expect(await useFastestNodeBackend()).toBe('wasm');
});

const synthetic = smallSynthetic(256, 10);
const shard = encodeShard(synthetic.train);
/** Every batch of it is the same batch: at the same weights, every update's steps are equal. */
const repeatedShard = encodeShard(repeatedExample(synthetic.train, 3, 32));

/**
 * The contract's timing, scaled down so each fault shows within a test; the ack and
 * request timeouts stay long enough that a loaded machine does not trip them.
 */
const FAST: Partial<SessionTiming> = {
  ackTimeoutMs: 10_000,
  requestTimeoutMs: 10_000,
  helloRetryMs: 60,
  barrierTimeoutMs: 10_000,
  retryBackoff: { initialMs: 20, maxMs: 200 },
  reconnect: { initialMs: 50, maxMs: 200 },
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function coordinatorFor(assignment: Assignment | undefined, model = testAssignment()) {
  const built = await buildTestModel(assignment ?? model, 1);
  const weights = await readFlatWeights(built);
  const layout = parameterLayout(built);
  built.dispose();
  const coordinator = await FakeCoordinator.start({ assignment, weights, layout });
  cleanups.push(() => coordinator.close());
  return coordinator;
}

interface Harness {
  readonly session: WorkerSession;
  readonly statuses: WorkerStatus[];
  readonly fetched: string[];
  readonly logs: string[];
}

function startSession(
  url: string,
  timing: Partial<SessionTiming> = FAST,
  shardBytes: Uint8Array = shard,
): Harness {
  const statuses: WorkerStatus[] = [];
  const fetched: string[] = [];
  const logs: string[] = [];
  const session = new WorkerSession({
    url,
    client: { kind: 'node', description: 'session test' },
    backend: { name: 'wasm' },
    fetchBytes: (href) => {
      fetched.push(href);
      return Promise.resolve(shardBytes);
    },
    onStatus: (status) => statuses.push(status),
    log: (level, message) => logs.push(`${level}: ${message}`),
    random: mulberry32(5),
    timing,
  });
  session.start();
  cleanups.push(() => session.stop());
  return { session, statuses, fetched, logs };
}

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function seqs(coordinator: FakeCoordinator): number[] {
  return coordinator.updates.map((u) => u.message.seq);
}

describe('WorkerSession against a coordinator that follows the contract', () => {
  it('says hello, loads the shard, pulls dense, then trains with increasing seqs and patches', async () => {
    const coordinator = await coordinatorFor(testAssignment());
    // Seq 6 gets no answer: the session then sits still with 6 updates applied, 7 sent, and
    // the steps of the 8th computed ahead.
    coordinator.onUpdate = (push, socket) =>
      push.seq === 6
        ? 'no-answer'
        : coordinator.defaultUpdate(push, (socket.data as { workerId: string }).workerId);
    const { session, fetched } = startSession(coordinator.url);
    await until(() => coordinator.updates.length === 7, '7 updates');
    const { bytesUp } = session.status;
    await session.stop();

    expect(coordinator.protocolErrors).toEqual([]);
    const hello = coordinator.hellos[0].message;
    expect(hello).toMatchObject({ type: 'hello', client: { kind: 'node' }, backend: 'wasm' });
    expect(hello.resume).toBeUndefined();
    expect(fetched).toEqual([`${coordinator.url}/shards/run-1/0.bin`]);
    // The first pull is dense (no version held yet).
    expect(coordinator.pulls[0].message).toEqual({ type: 'pull', runId: 'run-1' });
    const pushes = coordinator.updates.map((u) => u.message);
    // One worker: each update is computed on the version the previous ack brought.
    pushes.forEach((push, i) => {
      expect(push.seq).toBe(i);
      expect(push.baseVersion).toBe(i);
      expect(push.steps).toBe(1);
      expect(push.samples).toBe(16);
    });
    expect(coordinator.pulls).toHaveLength(1);
    const status = session.status;
    expect(status.state).toBe('stopped');
    expect(status.workerId).toBe('w1');
    expect(status.version).toBe(6);
    expect(coordinator.version).toBe(6);
    expect(status.updatesApplied).toBe(6);
    expect(status.updatesSent).toBe(7);
    // 7 updates' steps, plus the 8th update's, computed while seq 6 was in flight.
    expect(status.samples).toBe(16 * 8);
    expect(status.samplesPerSecond).toBeGreaterThan(0);
    // bytesUp = payloads + envelopes of 7 updates, 1 pull and 1 hello: more than the payloads,
    // less than the payloads plus 7 + 2 envelopes of 1 KB.
    const payloadBytes = pushes.reduce((sum, p) => sum + p.payload.byteLength, 0);
    expect(bytesUp).toBeGreaterThan(payloadBytes);
    expect(bytesUp).toBeLessThan(payloadBytes + 9 * 1024);
    expect(status.bytesDown).toBeGreaterThan(4 * coordinator.global.length);
    // A clean close: the coordinator saw the client leave the namespace.
    await until(() => coordinator.disconnects.length === 1, 'the disconnect');
    expect(coordinator.disconnects[0].reason).toBe('client namespace disconnect');
  });

  it("builds version 0 from the seed when its hash is the coordinator's, and pulls a patch from it", async () => {
    const model = await buildTestModel(testAssignment(), 1); // the fake coordinator's version 0
    const sha256 = weightsHash(await readFlatWeights(model));
    model.dispose();
    const assignment = { ...testAssignment(), initialWeights: { seed: 1, sha256 } };
    const coordinator = await coordinatorFor(assignment);
    const { session } = startSession(coordinator.url);
    await until(() => coordinator.updates.length >= 2, '2 updates');
    await session.stop();
    expect(coordinator.protocolErrors).toEqual([]);
    // No dense download: the first pull says it holds version 0, and is answered with a patch.
    expect(coordinator.pulls[0].message).toEqual({ type: 'pull', runId: 'run-1', haveVersion: 0 });
    expect(coordinator.updates[0].message.baseVersion).toBe(0);
    expect(session.status.bytesDown).toBeLessThan(coordinator.global.length * 4);
  });

  it('never applies a patch of another restart epoch: it pulls the dense weights instead', async () => {
    const coordinator = await coordinatorFor(testAssignment());
    const { session, logs } = startSession(coordinator.url);
    await until(() => coordinator.version >= 2, 'two versions');
    // The coordinator "restarted": same version numbers, another history.
    const pullsBefore = coordinator.pulls.length;
    coordinator.epoch = 'epoch-2';
    await until(
      () => coordinator.pulls.slice(pullsBefore).some((p) => p.message.haveVersion === undefined),
      'a dense pull',
    );
    const versionAtDense = coordinator.version;
    await until(() => coordinator.version >= versionAtDense + 2, 'training on');
    await session.stop();
    expect(coordinator.protocolErrors).toEqual([]);
    expect(logs.some((line) => line.includes('epoch-mismatch'))).toBe(true);
    // Pulls after the dense one name the new epoch.
    const later = coordinator.pulls.slice(pullsBefore).filter((p) => p.message.haveVersion);
    for (const pull of later) expect(pull.message.haveEpoch).toBe('epoch-2');
  });

  it('stops with state "error" on a protocol-version refusal', async () => {
    const coordinator = await coordinatorFor(testAssignment());
    coordinator.onHello = () => ({
      type: 'error',
      code: 'protocol-version',
      message: 'protocol version mismatch: worker speaks 1, coordinator speaks 2',
    });
    const { session } = startSession(coordinator.url);
    await session.finished;
    expect(session.status.state).toBe('error');
    expect(session.status.message).toContain('protocol version mismatch');
    await until(() => coordinator.disconnects.length === 1, 'the disconnect');
    expect(coordinator.hellos).toHaveLength(1);
  });

  it('waits for a run, hellos again with its identity, and trains once a run opens', async () => {
    const coordinator = await coordinatorFor(undefined);
    const { session, statuses } = startSession(coordinator.url);
    await until(() => coordinator.hellos.length >= 3, 'three hellos');
    expect(session.status.state).toBe('waiting-for-run');
    expect(coordinator.hellos[1].message.resume).toEqual({ workerId: 'w1', secret: 'secret-w1' });
    coordinator.assignment = testAssignment();
    await until(() => coordinator.version >= 2, 'training');
    const states = statuses.map((s) => s.state);
    expect(states.indexOf('waiting-for-run')).toBeLessThan(states.indexOf('loading'));
    expect(states.indexOf('loading')).toBeLessThan(states.indexOf('training'));
    expect(coordinator.updates.every((u) => u.workerId === 'w1')).toBe(true);
  });

  it('applies a phase notice to the local steps of the next update', async () => {
    const coordinator = await coordinatorFor(testAssignment());
    const { session } = startSession(coordinator.url);
    await until(() => coordinator.version >= 1, 'a first update');
    coordinator.broadcast('phase', {
      type: 'phase',
      runId: 'run-1',
      phase: 'sync',
      k: 2,
      n: 3,
      localSteps: 3,
    });
    await until(
      () => coordinator.updates.some((u) => u.message.steps === 3),
      'an update of 3 steps',
    );
    const steps = coordinator.updates.map((u) => u.message.steps);
    // Once 3, always 3: [1, ..., 1, 3, 3, ...].
    expect(steps.slice(steps.indexOf(3)).every((s) => s === 3)).toBe(true);
    const last = coordinator.updates.at(-1)?.message;
    expect(last?.samples).toBe(3 * 16);
    expect(session.status).toMatchObject({ phase: 'sync', k: 2, n: 3, localSteps: 3 });
  });
});

describe('WorkerSession answers and faults', () => {
  it('resends the same seq and payload once after a lost connection; "duplicate" -> pull, next seq', async () => {
    const coordinator = await coordinatorFor(testAssignment());
    let dropped = false;
    coordinator.onUpdate = (push, socket) => {
      const workerId = (socket.data as { workerId: string }).workerId;
      if (push.seq === 3) return 'no-answer';
      if (push.seq === 1 && !dropped) {
        // Applied, but the ack is lost with the connection.
        dropped = true;
        coordinator.defaultUpdate(push, workerId);
        return 'drop-connection';
      }
      return coordinator.defaultUpdate(push, workerId);
    };
    const { session } = startSession(coordinator.url);
    await until(() => seqs(coordinator).includes(3), 'seq 3');
    const pushes = coordinator.updates.map((u) => u.message);
    expect(pushes.map((p) => p.seq).slice(0, 4)).toEqual([0, 1, 1, 2]);
    expect(Buffer.from(pushes[2].payload).equals(Buffer.from(pushes[1].payload))).toBe(true);
    expect(pushes[2].baseVersion).toBe(pushes[1].baseVersion);
    // The second hello resumed the identity, so the coordinator could recognise the duplicate.
    expect(coordinator.hellos[1].message.resume?.workerId).toBe('w1');
    // After "duplicate": a pull from the version held (1), then seq 2 on version 2.
    expect(coordinator.pulls.at(-1)?.message).toEqual({
      type: 'pull',
      runId: 'run-1',
      haveVersion: 1,
      haveEpoch: 'fake-epoch',
    });
    expect(pushes[3].baseVersion).toBe(2);
    expect(session.status.updatesRejected).toEqual({ duplicate: 1 });
    // 0, 1, 2, 3: the resend of 1 is not a new update.
    expect(session.status.updatesSent).toBe(4);
    expect(session.status.updatesApplied).toBe(2);
  });

  it('does not resend under a new identity (the coordinator could not recognise a duplicate)', async () => {
    const assignment = testAssignment();
    const coordinator = await coordinatorFor(assignment);
    let hellos = 0;
    coordinator.onHello = () => {
      const workerId = hellos++ === 0 ? 'w1' : 'w9';
      return {
        type: 'welcome',
        protocolVersion: PROTOCOL_VERSION,
        workerId,
        secret: `secret-${workerId}`,
        epoch: coordinator.epoch,
        assignment,
      };
    };
    let dropped = false;
    coordinator.onUpdate = (push, socket) => {
      const workerId = (socket.data as { workerId: string }).workerId;
      if (push.seq === 2) return 'no-answer';
      if (push.seq === 1 && !dropped) {
        dropped = true;
        coordinator.defaultUpdate(push, workerId);
        return 'drop-connection';
      }
      return coordinator.defaultUpdate(push, workerId);
    };
    const { logs } = startSession(coordinator.url);
    await until(() => seqs(coordinator).includes(2), 'seq 2');
    expect(seqs(coordinator)).toEqual([0, 1, 2]);
    // The unanswered update was applied as version 2; the worker pulled it before seq 2.
    expect(coordinator.pulls.at(-1)?.message).toEqual({
      type: 'pull',
      runId: 'run-1',
      haveVersion: 1,
      haveEpoch: 'fake-epoch',
    });
    expect(coordinator.updates[2].message.baseVersion).toBe(2);
    expect(logs).toContain('info: the coordinator did not resume w1; now w9');
  });

  it('resends once after an ack timeout, then drops the update and moves on', async () => {
    const coordinator = await coordinatorFor(testAssignment());
    coordinator.onUpdate = (push, socket) =>
      push.seq === 0
        ? 'no-answer'
        : coordinator.defaultUpdate(push, (socket.data as { workerId: string }).workerId);
    startSession(coordinator.url, { ...FAST, ackTimeoutMs: 400 });
    await until(() => seqs(coordinator).includes(1), 'seq 1');
    expect(seqs(coordinator).slice(0, 3)).toEqual([0, 0, 1]);
    // Each timeout was followed by a hello on the same connection.
    expect(coordinator.hellos.length).toBeGreaterThanOrEqual(3);
    expect(coordinator.disconnects).toEqual([]);
  });

  it('"buffered": waits for the version notice, then pulls from its base version', async () => {
    const coordinator = await coordinatorFor(testAssignment());
    let noticeAt = 0;
    coordinator.onUpdate = (push, socket) => {
      if (push.seq !== 0)
        return coordinator.defaultUpdate(push, (socket.data as { workerId: string }).workerId);
      // The round closes 300 ms later: the update is applied and a version notice goes out.
      setTimeout(() => {
        coordinator.apply(push);
        noticeAt = Date.now();
        coordinator.broadcast('version', {
          type: 'version',
          runId: 'run-1',
          version: coordinator.version,
        });
      }, 300);
      return { type: 'ack', seq: 0, status: 'buffered', version: 0, staleness: 0 };
    };
    const { session } = startSession(coordinator.url);
    await until(() => seqs(coordinator).includes(1), 'seq 1');
    const pull = coordinator.pulls[1];
    expect(pull.message).toEqual({
      type: 'pull',
      runId: 'run-1',
      haveVersion: 0,
      haveEpoch: 'fake-epoch',
    });
    expect(noticeAt).toBeGreaterThan(0);
    expect(pull.at).toBeGreaterThanOrEqual(noticeAt);
    expect(coordinator.updates[1].message.baseVersion).toBe(1);
    expect(session.status.updatesBuffered).toBe(1);
  });

  it('"stale": counts it, pulls from its version, continues with the next seq', async () => {
    const coordinator = await coordinatorFor(testAssignment());
    coordinator.onUpdate = (push, socket) => {
      if (push.seq === 0) return { type: 'reject', seq: 0, reason: 'stale', message: '40 > 32' };
      if (push.seq === 2) return 'no-answer';
      return coordinator.defaultUpdate(push, (socket.data as { workerId: string }).workerId);
    };
    const { session } = startSession(coordinator.url);
    await until(() => seqs(coordinator).includes(2), 'seq 2');
    expect(seqs(coordinator)).toEqual([0, 1, 2]);
    expect(coordinator.pulls[1].message).toEqual({
      type: 'pull',
      runId: 'run-1',
      haveVersion: 0,
      haveEpoch: 'fake-epoch',
    });
    expect(coordinator.updates[1].message.baseVersion).toBe(0);
    expect(coordinator.updates[2].message.baseVersion).toBe(1);
    expect(session.status.updatesRejected).toEqual({ stale: 1 });
    expect(session.status.updatesApplied).toBe(1);
  });

  it('"run-ended": hellos again and loads the next run', async () => {
    const coordinator = await coordinatorFor(testAssignment());
    const { session, fetched } = startSession(coordinator.url);
    await until(() => coordinator.version >= 2, 'two updates');
    const second: Assignment = {
      ...testAssignment({ runId: 'run-2' }),
      dataset: { name: 'synthetic', shardUrl: '/shards/run-2/3.bin', shardIndex: 3, shardCount: 4 },
    };
    coordinator.assignment = second;
    coordinator.broadcast('run-ended', {
      type: 'run-ended',
      runId: 'run-1',
      reason: 'max-versions',
    });
    await until(
      () => coordinator.updates.some((u) => u.message.runId === 'run-2'),
      'an update for run-2',
    );
    expect(fetched).toEqual([
      `${coordinator.url}/shards/run-1/0.bin`,
      `${coordinator.url}/shards/run-2/3.bin`,
    ]);
    expect(coordinator.hellos.length).toBe(2);
    const firstOfRun2 = coordinator.pulls.find((p) => p.message.runId === 'run-2');
    // A new run starts from dense weights.
    expect(firstOfRun2?.message).toEqual({ type: 'pull', runId: 'run-2' });
    const pushes: UpdatePush[] = coordinator.updates.map((u) => u.message);
    // seq keeps increasing across runs: it is per worker.
    expect(pushes.every((p, i) => i === 0 || p.seq > pushes[i - 1].seq)).toBe(true);
    expect(session.status.runId).toBe('run-2');
  });

  it('"run-not-active": hellos again', async () => {
    const coordinator = await coordinatorFor(testAssignment());
    coordinator.onUpdate = (push, socket) =>
      push.seq === 0
        ? { type: 'reject', seq: 0, reason: 'run-not-active', message: 'run paused' }
        : coordinator.defaultUpdate(push, (socket.data as { workerId: string }).workerId);
    startSession(coordinator.url);
    await until(() => seqs(coordinator).includes(1), 'seq 1');
    const secondHello = coordinator.hellos[1];
    expect(secondHello.at).toBeGreaterThanOrEqual(coordinator.updates[0].at);
    expect(coordinator.hellos).toHaveLength(2);
  });

  it('pause stops computing after the current update; resume continues', async () => {
    const coordinator = await coordinatorFor(testAssignment());
    const { session } = startSession(coordinator.url);
    await until(() => coordinator.version >= 2, 'two updates');
    session.pause();
    await until(() => session.status.state === 'paused', 'the paused state');
    const frozen = coordinator.updates.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(coordinator.updates.length).toBe(frozen);
    session.resume();
    await until(() => coordinator.updates.length > frozen + 1, 'updates after resume');
    expect(session.status.state).toBe('training');
  });

  it('says it keeps retrying when the coordinator cannot be reached', async () => {
    const coordinator = await coordinatorFor(testAssignment());
    const url = coordinator.url;
    await coordinator.close();
    const { session } = startSession(url);
    await until(
      () => session.status.message?.includes('cannot reach the coordinator') === true,
      'the retry message',
    );
    expect(session.status.state).toBe('connecting');
    expect(session.status.message).toMatch(/retrying with backoff/);
  });
});

describe('WorkerSession pipeline', () => {
  it('after an update applied at once, computes the next while one is in flight, never more than one ahead, and compresses it after the answer', async () => {
    const coordinator = await coordinatorFor(testAssignment());
    let held = true;
    coordinator.onUpdate = (push, socket) =>
      push.seq === 1 && held
        ? 'no-answer'
        : coordinator.defaultUpdate(push, (socket.data as { workerId: string }).workerId);
    const { session } = startSession(coordinator.url, { ...FAST, ackTimeoutMs: 1500 });
    // Seq 0 is applied at once (an asynchronous phase), so while seq 1 travels unanswered
    // the steps of the next update are computed. (The fake coordinator shares this
    // process, so it may read seq 1 after the steps.)
    await until(
      () => session.status.samples === 3 * 16 && seqs(coordinator).length === 2,
      'seq 1 and the steps computed ahead',
    );
    expect(seqs(coordinator)).toEqual([0, 1]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // At most one update in flight and one update's steps ahead: nothing more happened.
    expect(seqs(coordinator)).toEqual([0, 1]);
    expect(session.status.samples).toBe(3 * 16);
    held = false;
    // The ack timeout: hello, the same seq 1 again (applied now), then seq 2 from the steps
    // computed ahead, relative to the version the ack brought.
    await until(() => seqs(coordinator).includes(2), 'seq 2');
    expect(seqs(coordinator).slice(0, 4)).toEqual([0, 1, 1, 2]);
    const pushes = coordinator.updates.map((u) => u.message);
    expect(Buffer.from(pushes[2].payload).equals(Buffer.from(pushes[1].payload))).toBe(true);
    expect(pushes[3].baseVersion).toBe(2);
    expect(coordinator.protocolErrors).toEqual([]);
  });

  it('computes nothing ahead behind a synchronous barrier ("buffered"): the next steps start from the new round', async () => {
    const coordinator = await coordinatorFor(testAssignment());
    coordinator.onUpdate = (push) => {
      if (push.seq !== 0) return 'no-answer';
      setTimeout(() => {
        coordinator.apply(push);
        coordinator.broadcast('version', {
          type: 'version',
          runId: 'run-1',
          version: coordinator.version,
        });
      }, 100);
      return { type: 'ack', seq: 0, status: 'buffered', version: 0, staleness: 0 };
    };
    const { session } = startSession(coordinator.url, { ...FAST, ackTimeoutMs: 5000 });
    await until(() => seqs(coordinator).includes(1), 'seq 1');
    expect(coordinator.updates[1].message.baseVersion).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Seq 1 travels unanswered and no steps were computed for seq 2.
    expect(seqs(coordinator)).toEqual([0, 1]);
    expect(session.status.samples).toBe(2 * 16);
  });

  for (const [reason, givenBack] of [
    ['stale', true],
    ['late', true],
    ['rate-limited', true],
    ['storage-unavailable', true],
    ['duplicate', false],
  ] as const) {
    it(`"${reason}": the rejected mass ${givenBack ? 'is sent again' : 'is not sent again'}`, async () => {
      // Density 1 on a set of identical examples, with weights that do not move (the update
      // is rejected): every update's steps give the same u, and top-k sends everything.
      // Given back, the next update is r + u = u + u = 2u exactly; else it is u.
      const coordinator = await coordinatorFor(testAssignment({ density: 1 }));
      coordinator.onUpdate = (push, socket) =>
        push.seq === 0
          ? { type: 'reject', seq: 0, reason, message: 'test' }
          : push.seq === 1
            ? 'no-answer'
            : coordinator.defaultUpdate(push, (socket.data as { workerId: string }).workerId);
      const { session } = startSession(coordinator.url, FAST, repeatedShard);
      await until(() => seqs(coordinator).includes(1), 'seq 1');
      await session.stop();
      const [first, second] = coordinator.updates.map((u) =>
        decodeSparseUpdate(u.message.payload, {
          maxLength: coordinator.global.length,
          maxCount: coordinator.global.length,
        }),
      );
      expect(first.indices.length).toBe(coordinator.global.length);
      expect(Array.from(second.indices)).toEqual(Array.from(first.indices));
      const expected = first.values.map((value) => (givenBack ? value + value : value));
      expect(firstDifference(second.values, expected)).toBe(-1);
      expect(second.values.some((value) => value !== 0)).toBe(true);
      expect(session.status.updatesRejected).toEqual({ [reason]: 1 });
    });
  }
});

describe('WorkerSession options', () => {
  it('refuses a URL that is not an absolute http(s) or ws(s) URL', () => {
    const make = (url: string) =>
      new WorkerSession({
        url,
        client: { kind: 'node', description: '' },
        backend: { name: 'cpu' },
        fetchBytes: () => Promise.resolve(new Uint8Array(0)),
      });
    expect(() => make('localhost:3000')).toThrow(SessionError);
    expect(() => make('not a url')).toThrow(/coordinator URL/);
    expect(() => make('ftp://example.com')).toThrow(/protocol ftp:/);
    expect(make('http://localhost:3000').status.state).toBe('connecting');
  });

  it('refuses a duty cycle outside (0, 1]', () => {
    const session = new WorkerSession({
      url: 'http://localhost:3000',
      client: { kind: 'node', description: '' },
      backend: { name: 'cpu' },
      fetchBytes: () => Promise.resolve(new Uint8Array(0)),
    });
    for (const bad of [0, -0.5, 1.01, Number.NaN]) {
      expect(() => {
        session.setDutyCycle(bad);
      }).toThrow(/invalid-duty-cycle/);
    }
    session.setDutyCycle(0.25);
  });
});
