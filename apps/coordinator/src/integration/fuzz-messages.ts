import { HELLO, sparsePayload } from './raw-worker.js';

/*
 * Malformed and hostile worker messages for the fuzz test. None of them may
 * change the model: each is invalid in at least one way the coordinator must
 * catch (schema, codec, limits, schedule), or is not a message at all.
 */

/** What the coordinator is expected to do with a message. */
export type FuzzExpectation = 'typed-reply' | 'disconnect';

export interface FuzzMessage {
  readonly kind: string;
  /** 'hello' | 'pull' | 'update' | an unknown event; 'raw' writes a socket.io packet by hand. */
  readonly event: string;
  readonly payload: unknown;
  /** Whether the message asks for an answer (an ack callback). */
  readonly ack: boolean;
  readonly expect: FuzzExpectation;
}

export interface FuzzContext {
  readonly runId: string;
  readonly parameterCount: number;
  /** Largest update count k of the run. */
  readonly k: number;
  readonly maxUpdateBytes: number;
  readonly maxMessageBytes: number;
  readonly maxStaleness: number;
  readonly version: () => number;
}

function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

function varint(value: number): number[] {
  const bytes: number[] = [];
  let rest = value >>> 0;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return bytes;
}

/** A sparse-update payload written byte by byte, without the encoder's checks. */
export function rawSparse(options: {
  length: number;
  count: number;
  gaps: readonly number[][];
  values: readonly number[];
  magic?: number;
  version?: number;
  format?: number;
}): Uint8Array {
  const header = new Uint8Array(11);
  const view = new DataView(header.buffer);
  header[0] = options.magic ?? 0x53;
  header[1] = options.version ?? 1;
  header[2] = options.format ?? 0;
  view.setUint32(3, options.length >>> 0, true);
  view.setUint32(7, options.count >>> 0, true);
  const indexBytes = options.gaps.flat();
  const values = new Uint8Array(options.values.length * 4);
  const valueView = new DataView(values.buffer);
  options.values.forEach((v, i) => {
    valueView.setFloat32(i * 4, v, true);
  });
  return Uint8Array.from([...header, ...indexBytes, ...values]);
}

/** A valid payload of `count` sorted entries spread over [0, P). */
function validEntries(context: FuzzContext, count: number): [number, number][] {
  const step = Math.max(1, Math.floor(context.parameterCount / (count + 1)));
  return Array.from({ length: count }, (_, i): [number, number] => [i * step, 0.01]);
}

function validPayload(context: FuzzContext, random: () => number): Uint8Array {
  return sparsePayload(
    context.parameterCount,
    validEntries(context, 1 + Math.floor(random() * context.k)),
  );
}

/** A copy of `object` without `key`. */
function without(object: object, key: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([k]) => k !== key));
}

const NOT_OBJECTS: readonly unknown[] = [42, 'hello', null, [], true, [1, 2, 3], ''];

type Generator = (random: () => number, context: FuzzContext) => FuzzMessage;

const reply = (kind: string, event: string, payload: unknown): FuzzMessage => ({
  kind,
  event,
  payload,
  ack: true,
  expect: 'typed-reply',
});

function baseUpdate(context: FuzzContext, random: () => number): Record<string, unknown> {
  return {
    type: 'update',
    runId: context.runId,
    seq: Math.floor(random() * 1e6),
    baseVersion: context.version(),
    steps: 1,
    samples: 32,
    trainLoss: 1,
    computeMs: 5,
    payload: validPayload(context, random),
  };
}

/** Each generator makes one kind of bad message; weights below say how often. */
const GENERATORS: readonly (readonly [number, Generator])[] = [
  [3, (r) => reply('hello-not-object', 'hello', pick(r, NOT_OBJECTS))],
  [
    3,
    (r) => {
      const missing = pick(r, ['type', 'protocolVersion', 'client', 'backend']);
      return reply('hello-missing-field', 'hello', without(HELLO, missing));
    },
  ],
  [
    3,
    (r) =>
      reply('hello-protocol-version', 'hello', {
        ...HELLO,
        protocolVersion: pick(r, [0, -1, 999, 2 ** 40, '1', 1.5, null]),
      }),
  ],
  [
    3,
    (r) =>
      reply(
        'hello-wrong-type',
        'hello',
        pick(r, [
          { ...HELLO, backend: 'cuda' },
          { ...HELLO, client: 'node' },
          { ...HELLO, capabilities: { hardwareConcurrency: -1 } },
          { ...HELLO, speedProbe: { samplesPerSecond: Number.NaN, model: 'x' } },
          { ...HELLO, resume: { workerId: 7, secret: [] } },
        ]),
      ),
  ],
  [
    2,
    (r) =>
      reply('hello-oversized-string', 'hello', {
        ...HELLO,
        client: { kind: 'node', description: 'x'.repeat(300 + Math.floor(r() * 50_000)) },
      }),
  ],
  [2, () => reply('hello-extra-field', 'hello', { ...HELLO, admin: true })],
  [
    4,
    (r, c) =>
      reply(
        'pull-invalid',
        'pull',
        pick(r, [
          { type: 'pull' },
          { type: 'pull', runId: 123 },
          { type: 'pull', runId: '' },
          { type: 'pull', runId: c.runId, haveVersion: -1 },
          { type: 'pull', runId: c.runId, haveVersion: 'x' },
          { type: 'pull', runId: c.runId, haveVersion: 1.5 },
          { type: 'pull', runId: c.runId, haveVersion: Number.POSITIVE_INFINITY },
          { type: 'weights', runId: c.runId },
          ...NOT_OBJECTS,
        ]),
      ),
  ],
  [2, () => reply('pull-wrong-run', 'pull', { type: 'pull', runId: 'no-such-run' })],
  [3, (r) => reply('update-not-object', 'update', pick(r, NOT_OBJECTS))],
  [
    5,
    (r, c) => {
      const update = baseUpdate(c, r);
      return reply('update-missing-field', 'update', without(update, pick(r, Object.keys(update))));
    },
  ],
  [
    6,
    (r, c) => {
      const [field, value] = pick<[string, unknown]>(r, [
        ['seq', '1'],
        ['seq', -1],
        ['seq', 1.5],
        ['seq', Number.NaN],
        ['seq', 2 ** 60],
        ['baseVersion', -1],
        ['baseVersion', '0'],
        ['trainLoss', -1],
        ['trainLoss', Number.NaN],
        ['computeMs', Number.POSITIVE_INFINITY],
        ['computeMs', -5],
        ['steps', 0],
        ['samples', 0],
        ['samples', 1e12],
        ['runId', { $ne: null }],
        ['type', 'ack'],
      ]);
      return reply('update-wrong-type', 'update', { ...baseUpdate(c, r), [field]: value });
    },
  ],
  [
    3,
    (r, c) =>
      reply('update-payload-not-binary', 'update', {
        ...baseUpdate(c, r),
        payload: pick(r, ['AQID', [1, 2, 3], { 0: 1 }, 12, null]),
      }),
  ],
  [
    6,
    (r, c) => {
      const full = validPayload(c, r);
      return reply('update-truncated', 'update', {
        ...baseUpdate(c, r),
        payload: full.slice(0, Math.floor(r() * (full.length - 1))),
      });
    },
  ],
  [
    4,
    (r, c) =>
      reply('update-random-bytes', 'update', {
        ...baseUpdate(c, r),
        payload: Uint8Array.from({ length: Math.floor(r() * 2000) }, () => Math.floor(r() * 256)),
      }),
  ],
  [
    3,
    (r, c) =>
      reply('update-bad-header', 'update', {
        ...baseUpdate(c, r),
        payload: rawSparse({
          length: c.parameterCount,
          count: 1,
          gaps: [[0]],
          values: [0.01],
          ...pick(r, [{ magic: 0x57 }, { version: 2 }, { format: 7 }, { magic: 0 }]),
        }),
      }),
  ],
  [
    4,
    (r, c) =>
      reply('update-length-mismatch', 'update', {
        ...baseUpdate(c, r),
        payload: sparsePayload(c.parameterCount + pick(r, [1, -1, 1000, -c.parameterCount + 1]), [
          [0, 0.01],
        ]),
      }),
  ],
  [
    5,
    (r, c) =>
      reply('update-index-out-of-range', 'update', {
        ...baseUpdate(c, r),
        payload: rawSparse({
          length: c.parameterCount,
          count: 2,
          gaps: [varint(0), varint(c.parameterCount + Math.floor(r() * 1000))],
          values: [0.01, 0.01],
        }),
      }),
  ],
  [
    5,
    (r, c) =>
      reply('update-unsorted', 'update', {
        ...baseUpdate(c, r),
        // A gap that wraps a 32-bit index back below the previous one.
        payload: rawSparse({
          length: c.parameterCount,
          count: 2,
          gaps: [varint(100), varint(2 ** 32 - 1 - Math.floor(r() * 50))],
          values: [0.01, 0.01],
        }),
      }),
  ],
  [
    5,
    (r, c) =>
      reply('update-repeated-index', 'update', {
        ...baseUpdate(c, r),
        payload: rawSparse({
          length: c.parameterCount,
          count: 3,
          gaps: [varint(Math.floor(r() * 100)), varint(0), varint(1)],
          values: [0.01, 0.02, 0.03],
        }),
      }),
  ],
  [
    3,
    (r, c) =>
      reply('update-bad-varint', 'update', {
        ...baseUpdate(c, r),
        payload: rawSparse({
          length: c.parameterCount,
          count: 1,
          gaps: [
            pick(r, [
              [0x80, 0x00],
              [0xff, 0xff, 0xff, 0xff, 0x7f],
              [0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
            ]),
          ],
          values: [0.01],
        }),
      }),
  ],
  [
    6,
    (r, c) =>
      reply('update-non-finite', 'update', {
        ...baseUpdate(c, r),
        payload: rawSparse({
          length: c.parameterCount,
          count: 2,
          gaps: [varint(1), varint(1)],
          values: [0.01, pick(r, [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])],
        }),
      }),
  ],
  [
    4,
    (r, c) =>
      reply('update-huge-k', 'update', {
        ...baseUpdate(c, r),
        payload: sparsePayload(
          c.parameterCount,
          validEntries(c, Math.min(c.parameterCount, c.k + 1 + Math.floor(r() * c.k * 10))),
        ),
      }),
  ],
  [
    3,
    (r, c) =>
      reply('update-count-lies', 'update', {
        ...baseUpdate(c, r),
        payload: rawSparse({
          length: c.parameterCount,
          count: pick(r, [0xffffffff, c.k, 2]),
          gaps: [varint(0)],
          values: [],
        }),
      }),
  ],
  [
    1,
    (r, c) =>
      reply('update-oversized', 'update', {
        ...baseUpdate(c, r),
        payload: new Uint8Array(c.maxUpdateBytes + 1 + Math.floor(r() * 1000)).fill(0x53),
      }),
  ],
  [
    4,
    (r, c) =>
      reply('update-future-version', 'update', {
        ...baseUpdate(c, r),
        baseVersion: c.version() + 1 + Math.floor(r() * 1e6),
      }),
  ],
  [
    3,
    (r, c) =>
      // Before the model is old enough to make version 0 stale, a far future version stands in.
      reply('update-stale-version', 'update', {
        ...baseUpdate(c, r),
        baseVersion: c.version() > c.maxStaleness + 1 ? 0 : c.version() + 100,
      }),
  ],
  [
    3,
    (r, c) =>
      reply('update-wrong-run', 'update', {
        ...baseUpdate(c, r),
        runId: pick(r, ['other-run', `${c.runId}x`, '']),
      }),
  ],
  [
    2,
    (r) =>
      reply(
        pick(r, ['unknown-event']),
        pick(r, ['stop-run', 'create-run', 'admin', 'x'.repeat(200)]),
        {
          runId: 'x',
        },
      ),
  ],
  // The few below end the connection; each costs the lane a reconnect.
  [
    1,
    (r, c) => ({
      kind: 'no-ack',
      event: pick(r, ['hello', 'update', 'pull', 'unknown']),
      payload: baseUpdate(c, r),
      ack: false,
      expect: 'disconnect',
    }),
  ],
  [
    0.3,
    (_r, c) => ({
      kind: 'frame-over-max-buffer',
      event: 'update',
      payload: new Uint8Array(c.maxMessageBytes + 1024),
      ack: true,
      expect: 'disconnect',
    }),
  ],
  [
    0.5,
    (r) => ({
      kind: 'garbage-packet',
      event: 'raw',
      payload: pick(r, ['garbage', '2["hello"', '9', '0{', '2[{}]']),
      ack: false,
      expect: 'disconnect',
    }),
  ],
];

const TOTAL_WEIGHT = GENERATORS.reduce((sum, [weight]) => sum + weight, 0);

/** One random bad message. */
export function fuzzMessage(random: () => number, context: FuzzContext): FuzzMessage {
  let roll = random() * TOTAL_WEIGHT;
  for (const [weight, generate] of GENERATORS) {
    roll -= weight;
    if (roll <= 0) return generate(random, context);
  }
  const last = GENERATORS.at(-1);
  if (!last) throw new Error('no generators');
  return last[1](random, context);
}
