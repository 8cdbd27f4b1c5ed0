import { setTimeout as sleep } from 'node:timers/promises';
import {
  ERROR_CODES,
  REJECT_REASONS,
  type RunConfigInput,
  type UpdatePush,
} from '@vtrain/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '@vtrain/optimizer';
import { fuzzMessage, type FuzzContext, type FuzzMessage } from './fuzz-messages.js';
import { TestCoordinator } from './harness.js';
import { HELLO, connectRawWorker, sparsePayload, type RawSocket } from './raw-worker.js';

/*
 * At least 10,000 malformed and hostile messages through real socket.io
 * connections while one honest worker trains: each gets a typed rejection or
 * a disconnect, the process stays up, memory stays bounded, and the model ends
 * bit-identical to the same honest updates without the fuzzer.
 */

const LANES = 16;
/** bench/soak.sh raises it for the long variant. */
const MESSAGES_PER_LANE = Number(process.env.SOAK_FUZZ_MESSAGES_PER_LANE ?? 640);
/** Below the 50 messages/s rate limit, so the messages reach the validators. */
const LANE_INTERVAL_MS = 24;
const FLOOD_MESSAGES = 1000;
const HONEST_UPDATES = 40;
const MAX_STALENESS = 4;

const config: RunConfigInput = {
  name: 'fuzz',
  seed: 7,
  dataset: { name: 'synthetic', shards: 4 },
  model: { kind: 'mlp', hiddenUnits: [8] },
  schedule: { kind: 'async', staleness: { maxStaleness: MAX_STALENESS, damping: 'none' } },
  evaluation: { everyVersions: 1000, testExamples: 100 },
  stop: { maxSeconds: 600 },
};

type Outcome = 'typed-reply' | 'disconnect' | 'untyped-reply' | 'no-answer';

function isTyped(reply: unknown): boolean {
  const r = reply as { type?: unknown; reason?: unknown; code?: unknown };
  if (r.type === 'reject') return (REJECT_REASONS as readonly unknown[]).includes(r.reason);
  if (r.type === 'error') return (ERROR_CODES as readonly unknown[]).includes(r.code);
  return false;
}

/** Sends one message and waits for its answer or for the connection to end. */
function send(socket: RawSocket, message: FuzzMessage): Promise<Outcome> {
  return new Promise((resolve) => {
    const done = (outcome: Outcome): void => {
      clearTimeout(timer);
      socket.off('disconnect', onDisconnect);
      resolve(outcome);
    };
    const onDisconnect = (): void => {
      done('disconnect');
    };
    // Generous: an answer is never slow; this only keeps a broken server from hanging the test.
    const timer = setTimeout(() => {
      done('no-answer');
    }, 15_000);
    socket.once('disconnect', onDisconnect);
    const emit = socket.emit.bind(socket) as (event: string, ...args: unknown[]) => void;
    if (message.event === 'raw') {
      (socket.io.engine as unknown as { write(data: string): void }).write(String(message.payload));
    } else if (message.ack) {
      emit(message.event, message.payload, (reply: unknown) => {
        done(isTyped(reply) ? 'typed-reply' : 'untyped-reply');
      });
    } else {
      emit(message.event, message.payload);
    }
  });
}

async function joinedWorker(url: string): Promise<{ socket: RawSocket; runId: string }> {
  const socket = await connectRawWorker(url);
  const welcome = await socket.emitWithAck('hello', HELLO);
  if (welcome.type !== 'welcome' || !welcome.assignment) throw new Error('no assignment');
  return { socket, runId: welcome.assignment.runId };
}

/** The honest worker's updates: fixed, so two runs given them end with the same weights. */
function honestPayloads(parameterCount: number, k: number): Uint8Array[] {
  const random = mulberry32(99);
  return Array.from({ length: HONEST_UPDATES }, () => {
    const indices = new Set<number>();
    while (indices.size < k) indices.add(Math.floor(random() * parameterCount));
    return sparsePayload(
      parameterCount,
      [...indices].sort((a, b) => a - b).map((i): [number, number] => [i, (random() - 0.5) * 0.1]),
    );
  });
}

/** Sends the honest updates in order; each is also replayed once, which must be refused. */
async function trainHonestly(
  url: string,
  payloads: readonly Uint8Array[],
  paceMs: number,
): Promise<{ replays: number; replaysRejected: number }> {
  const { socket, runId } = await joinedWorker(url);
  let version = 0;
  let replaysRejected = 0;
  try {
    for (const [seq, payload] of payloads.entries()) {
      const update: UpdatePush = {
        type: 'update',
        runId,
        seq,
        baseVersion: version,
        steps: 1,
        samples: 32,
        trainLoss: 1,
        computeMs: 5,
        payload,
      };
      const ack = await socket.emitWithAck('update', update);
      if (ack.type !== 'ack' || ack.status !== 'applied') {
        throw new Error(`honest update ${seq} not applied: ${JSON.stringify(ack)}`);
      }
      version = ack.version;
      const replay = await socket.emitWithAck('update', update);
      if (replay.type === 'reject' && replay.reason === 'duplicate') replaysRejected += 1;
      await sleep(paceMs);
    }
  } finally {
    socket.disconnect();
  }
  return { replays: payloads.length, replaysRejected };
}

describe('fuzzing the worker namespace', () => {
  let coordinator: TestCoordinator;
  beforeAll(async () => {
    coordinator = await TestCoordinator.start();
  });
  afterAll(async () => {
    await coordinator.stop();
  });

  it(
    'answers >= 10,000 bad messages with typed rejections or disconnects, and the model is untouched',
    async () => {
      const manager = coordinator.coordinator.manager;
      const fuzzedId = await coordinator.createRun(config);
      const live = manager.liveRun(fuzzedId);
      if (!live) throw new Error('run not live');
      const context: FuzzContext = {
        runId: fuzzedId,
        parameterCount: live.engine.parameterCount,
        k: live.model.k,
        maxUpdateBytes: live.model.maxUpdateBytes,
        maxMessageBytes: coordinator.coordinator.maxMessageBytes,
        maxStaleness: MAX_STALENESS,
        version: () => live.engine.version,
      };
      const payloads = honestPayloads(context.parameterCount, context.k);

      global.gc?.();
      const rssBefore = process.memoryUsage().rss;
      const outcomes = new Map<string, Map<Outcome, number>>();
      const count = (kind: string, outcome: Outcome): void => {
        const byOutcome = outcomes.get(kind) ?? new Map<Outcome, number>();
        byOutcome.set(outcome, (byOutcome.get(outcome) ?? 0) + 1);
        outcomes.set(kind, byOutcome);
      };
      const unexpected: string[] = [];

      const lane = async (seed: number): Promise<void> => {
        const random = mulberry32(seed);
        let socket = (await joinedWorker(coordinator.url)).socket;
        for (let i = 0; i < MESSAGES_PER_LANE; i++) {
          if (!socket.connected) socket = (await joinedWorker(coordinator.url)).socket;
          const message = fuzzMessage(random, context);
          const outcome = await send(socket, message);
          count(message.kind, outcome);
          const ok =
            outcome === message.expect ||
            (outcome === 'disconnect' &&
              message.expect === 'typed-reply' &&
              message.kind === 'update-oversized');
          if (!ok && unexpected.length < 20)
            unexpected.push(`${message.kind}: ${outcome} (seed ${seed}, #${i})`);
          await sleep(LANE_INTERVAL_MS);
        }
        socket.disconnect();
      };

      /** A flood: everything at once, far over the rate limit, until the coordinator cuts it. */
      const flood = async (): Promise<void> => {
        const socket = await connectRawWorker(coordinator.url);
        const answers = Array.from({ length: FLOOD_MESSAGES }, () =>
          send(socket, {
            kind: 'flood',
            event: 'pull',
            payload: { type: 'pull', runId: 'x' },
            ack: true,
            expect: 'typed-reply',
          }),
        );
        for (const outcome of await Promise.all(answers)) count('flood', outcome);
        socket.disconnect();
      };

      const [honest] = await Promise.all([
        trainHonestly(coordinator.url, payloads, 300),
        flood(),
        ...Array.from({ length: LANES }, (_, i) => lane(1000 + i)),
      ]);
      global.gc?.();
      const rssAfter = process.memoryUsage().rss;
      const fuzzedWeights = live.engine.weights.slice();
      const fuzzedVersion = live.engine.version;

      // The same honest updates on a fresh run of the same config, no fuzzer.
      await coordinator.api(`/api/runs/${fuzzedId}/stop`, { method: 'POST' });
      const cleanId = await coordinator.createRun(config);
      await trainHonestly(coordinator.url, payloads, 0);
      const clean = manager.liveRun(cleanId);
      await coordinator.api(`/api/runs/${cleanId}/stop`, { method: 'POST' });

      let sent = honest.replays;
      let handled = honest.replaysRejected;
      const table: string[] = [];
      for (const [kind, byOutcome] of [...outcomes].sort(([a], [b]) => a.localeCompare(b))) {
        const total = [...byOutcome.values()].reduce((a, b) => a + b, 0);
        sent += total;
        handled += (byOutcome.get('typed-reply') ?? 0) + (byOutcome.get('disconnect') ?? 0);
        table.push(
          `  ${kind.padEnd(26)} ${[...byOutcome].map(([o, n]) => `${o} ${n}`).join(', ')}`,
        );
      }
      const rejected = manager.metrics(fuzzedId).at(-1)?.updatesRejected;
      console.log(
        [
          `fuzz: ${sent} messages sent, ${handled} answered with a typed rejection or a disconnect`,
          ...table,
          `  update-replayed (honest seq sent again) duplicate ${honest.replaysRejected}/${honest.replays}`,
          `  run counters of rejected updates: ${JSON.stringify(rejected)}`,
          `  RSS before ${(rssBefore / 2 ** 20).toFixed(0)} MiB, after ${(rssAfter / 2 ** 20).toFixed(0)} MiB`,
        ].join('\n'),
      );

      expect(unexpected).toEqual([]);
      expect(sent).toBeGreaterThanOrEqual(10_000);
      expect(handled).toBe(sent);
      expect(honest.replaysRejected).toBe(HONEST_UPDATES);
      expect(fuzzedVersion).toBe(HONEST_UPDATES);
      expect(clean?.engine.version).toBe(HONEST_UPDATES);
      const cleanWeights = clean?.engine.weights ?? new Float32Array(0);
      expect(Buffer.from(fuzzedWeights.buffer).equals(Buffer.from(cleanWeights.buffer))).toBe(true);
      // Bounded: thousands of messages, among them multi-megabyte frames, leave no lasting growth.
      expect(rssAfter - rssBefore).toBeLessThan(256 * 2 ** 20);
      expect((await coordinator.api('/api/health')).status).toBe(200);
    },
    Math.max(180_000, MESSAGES_PER_LANE * 200),
  );
});
