import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { encodeDenseWeights } from '@vtrain/protocol';
import { describe, expect, it } from 'vitest';
import { CheckpointError } from './checkpoint-error.js';
import {
  MAX_WRITTEN_HEADER_BYTES,
  decodeCheckpoint,
  encodeCheckpoint,
  type Checkpoint,
} from './checkpoint-format.js';

function bits(values: Float32Array): number[] {
  return [...new Uint32Array(values.buffer, values.byteOffset, values.length)];
}

function sample(): Checkpoint {
  return {
    version: 1234,
    elapsedSeconds: 56.75,
    savedAt: 1_700_000_000_123,
    // -0, the smallest denormal, the largest float32 and an ordinary value: all must survive.
    weights: Float32Array.of(-0, 1e-45, 3.4028234663852886e38, 0.1),
    optimizer: {
      kind: 'adam',
      step: 77,
      buffers: {
        firstMoment: Float32Array.of(1, 2, 3, 4),
        secondMoment: Float32Array.of(0.5, 0.25, 0.125, 0),
      },
    },
    schedule: { kind: 'hybrid', k: 3, batch: [{ workerId: 'w1', seq: 9 }], opened: null },
    extra: { counters: { applied: 10, rejected: { stale: 2 } } },
  };
}

/** SHA-256 of `body` appended: a file whose trailer is right for whatever `body` holds. */
function withHash(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 32);
  out.set(body);
  out.set(createHash('sha256').update(body).digest(), body.length);
  return out;
}

/** A file assembled by hand: prefix, header text padded to 4, blob, hash. */
function assemble(headerJson: string, blob: Uint8Array, formatVersion = 1): Uint8Array {
  const header = new TextEncoder().encode(headerJson);
  const padded = header.length + ((4 - ((12 + header.length) % 4)) % 4);
  const body = new Uint8Array(12 + padded + blob.length).fill(0x20, 12, 12 + padded);
  body.set([0x56, 0x54, 0x43, 0x4b]);
  const view = new DataView(body.buffer);
  view.setUint32(4, formatVersion, true);
  view.setUint32(8, padded, true);
  body.set(header, 12);
  body.set(blob, 12 + padded);
  return withHash(body);
}

function codeOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof CheckpointError) return error.code;
    throw error;
  }
  return 'no error';
}

describe('encodeCheckpoint / decodeCheckpoint', () => {
  it('round-trips bit-exactly, optimizer buffers and JSON state included', () => {
    const original = sample();
    const decoded = decodeCheckpoint(encodeCheckpoint(original));
    expect(bits(decoded.weights)).toEqual(bits(original.weights));
    expect(Object.is(decoded.weights[0], -0)).toBe(true);
    expect(decoded.optimizer.kind).toBe('adam');
    expect(decoded.optimizer.step).toBe(77);
    expect(Object.keys(decoded.optimizer.buffers)).toEqual(['firstMoment', 'secondMoment']);
    for (const name of ['firstMoment', 'secondMoment']) {
      const got = decoded.optimizer.buffers[name] ?? new Float32Array(0);
      const want = original.optimizer.buffers[name] ?? new Float32Array(1);
      expect(bits(got)).toEqual(bits(want));
    }
    expect(decoded.schedule).toEqual(original.schedule);
    expect(decoded.extra).toEqual(original.extra);
    expect([decoded.version, decoded.elapsedSeconds, decoded.savedAt]).toEqual([
      1234, 56.75, 1_700_000_000_123,
    ]);
  });

  it('round-trips any weights and JSON state (property)', () => {
    const state = fc.record({
      weights: fc.float32Array({ noNaN: true, noDefaultInfinity: true, maxLength: 64 }),
      momentum: fc.boolean(),
      step: fc.nat(),
      version: fc.nat(),
      schedule: fc.jsonValue(),
    });
    fc.assert(
      fc.property(state, ({ weights, momentum, step, version, schedule }) => {
        const buffers: Record<string, Float32Array> = momentum
          ? { momentum: weights.map((w) => w / 2) }
          : {};
        const checkpoint: Checkpoint = {
          version,
          elapsedSeconds: 1,
          savedAt: 2,
          weights,
          optimizer: { kind: momentum ? 'momentum' : 'sgd', step, buffers },
          schedule,
          extra: null,
        };
        const decoded = decodeCheckpoint(encodeCheckpoint(checkpoint));
        expect(bits(decoded.weights)).toEqual(bits(weights));
        expect(decoded.optimizer.buffers).toEqual(buffers);
        // JSON has one zero: -0 in the schedule comes back as 0, which is what JSON.parse gives.
        expect(decoded.schedule).toEqual(JSON.parse(JSON.stringify(schedule)) as unknown);
        expect(decoded.version).toBe(version);
      }),
    );
  });

  it('lays the bytes out as documented', () => {
    const bytes = encodeCheckpoint({
      version: 3,
      elapsedSeconds: 0,
      savedAt: 0,
      weights: Float32Array.of(2),
      optimizer: { kind: 'sgd', step: 0, buffers: {} },
      schedule: null,
      extra: 'xyz',
    });
    const json =
      '{"version":3,"elapsedSeconds":0,"savedAt":0,"parameterCount":1,' +
      '"optimizer":{"kind":"sgd","step":0,"buffers":[]},"schedule":null,"extra":"xyz"}';
    // Characters: {"version":3, 13 + "elapsedSeconds":0, 19 + "savedAt":0, 12
    // + "parameterCount":1, 19 + "optimizer":{...}, 49 + "schedule":null, 16 + "extra":"xyz"} 14
    // = 142; 12 + 142 = 154, so 2 spaces of padding reach 156: H = 144, the blob starts at 156.
    expect(json.length).toBe(142);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect([...bytes.subarray(0, 4)]).toEqual([0x56, 0x54, 0x43, 0x4b]);
    expect(view.getUint32(4, true)).toBe(1);
    expect(view.getUint32(8, true)).toBe(144);
    expect(new TextDecoder().decode(bytes.subarray(12, 156))).toBe(`${json}  `);
    // Dense blob: 'W', version 1, one tensor, name "weights" (7), rank 1, dim 1, 2.0f.
    const blob = encodeDenseWeights({
      tensors: [{ name: 'weights', shape: [1], data: Float32Array.of(2) }],
    });
    expect([...bytes.subarray(156, 156 + blob.length)]).toEqual([...blob]);
    expect(bytes.length).toBe(156 + blob.length + 32);
    const digest = createHash('sha256')
      .update(bytes.subarray(0, 156 + blob.length))
      .digest();
    expect([...bytes.subarray(156 + blob.length)]).toEqual([...digest]);
  });

  it('detects every single bit flip (property)', () => {
    const bytes = encodeCheckpoint(sample());
    fc.assert(
      fc.property(fc.nat(bytes.length * 8 - 1), (bit) => {
        const damaged = bytes.slice();
        damaged[bit >> 3] = (damaged[bit >> 3] ?? 0) ^ (1 << (bit & 7));
        expect(['bad-magic', 'unsupported-version', 'hash-mismatch']).toContain(
          codeOf(() => decodeCheckpoint(damaged)),
        );
      }),
    );
  });

  it('detects every truncation (property)', () => {
    const bytes = encodeCheckpoint(sample());
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), (length) => {
        expect(['truncated', 'hash-mismatch']).toContain(
          codeOf(() => decodeCheckpoint(bytes.subarray(0, length))),
        );
      }),
    );
  });

  it('names the check that failed on a file whose hash is right', () => {
    const blob = encodeDenseWeights({
      tensors: [{ name: 'weights', shape: [2], data: Float32Array.of(1, 2) }],
    });
    const header = (fields: string) =>
      `{"version":1,"elapsedSeconds":0,"savedAt":0,"parameterCount":2,${fields},"schedule":null,"extra":null}`;
    const sgd = '"optimizer":{"kind":"sgd","step":0,"buffers":[]}';
    expect(decodeCheckpoint(assemble(header(sgd), blob)).weights).toEqual(Float32Array.of(1, 2));

    const foreign = assemble(header(sgd), blob);
    foreign[0] = 0x50;
    expect(codeOf(() => decodeCheckpoint(withHash(foreign.subarray(0, -32))))).toBe('bad-magic');
    expect(codeOf(() => decodeCheckpoint(assemble(header(sgd), blob, 2)))).toBe(
      'unsupported-version',
    );
    expect(codeOf(() => decodeCheckpoint(assemble('{"version":', blob)))).toBe('bad-header');
    expect(codeOf(() => decodeCheckpoint(assemble('[1, 2]', blob)))).toBe('bad-header');
    const unknownKind = '"optimizer":{"kind":"rmsprop","step":0,"buffers":[]}';
    expect(codeOf(() => decodeCheckpoint(assemble(header(unknownKind), blob)))).toBe('bad-header');
    const negativeStep = '"optimizer":{"kind":"sgd","step":-1,"buffers":[]}';
    expect(codeOf(() => decodeCheckpoint(assemble(header(negativeStep), blob)))).toBe('bad-header');
    // The header announces a momentum buffer the blob does not hold.
    const missingBuffer = '"optimizer":{"kind":"momentum","step":0,"buffers":["momentum"]}';
    expect(codeOf(() => decodeCheckpoint(assemble(header(missingBuffer), blob)))).toBe(
      'bad-tensors',
    );
    // P = 3 in the header, 2 values in the blob.
    const wrongCount = header(sgd).replace('"parameterCount":2', '"parameterCount":3');
    expect(codeOf(() => decodeCheckpoint(assemble(wrongCount, blob)))).toBe('bad-tensors');
    expect(codeOf(() => decodeCheckpoint(assemble(header(sgd), blob.subarray(0, -4))))).toBe(
      'bad-tensors',
    );
    // Header length field pointing past the end, hash recomputed.
    const long = assemble(header(sgd), blob).subarray(0, -32);
    new DataView(long.buffer, long.byteOffset).setUint32(8, 10_000, true);
    expect(codeOf(() => decodeCheckpoint(withHash(long)))).toBe('truncated');
    expect(codeOf(() => decodeCheckpoint(new Uint8Array(43)))).toBe('truncated');
  });

  it('refuses to encode what it could not restore exactly', () => {
    const base = sample();
    const cases: [string, Checkpoint][] = [
      ['NaN weight', { ...base, weights: Float32Array.of(0, Number.NaN, 0, 0) }],
      ['negative version', { ...base, version: -1 }],
      ['fractional version', { ...base, version: 1.5 }],
      ['NaN elapsed', { ...base, elapsedSeconds: Number.NaN }],
      ['unknown optimizer', { ...base, optimizer: { ...base.optimizer, kind: 'lamb' as never } }],
      [
        'short buffer',
        { ...base, optimizer: { ...base.optimizer, buffers: { m: new Float32Array(3) } } },
      ],
      ['Infinity in schedule', { ...base, schedule: { deadline: Number.POSITIVE_INFINITY } }],
      ['bigint in extra', { ...base, extra: { n: 1n } }],
      // State that grew without bound: refused while the previous checkpoint is intact.
      ['header over the write bound', { ...base, extra: 'x'.repeat(MAX_WRITTEN_HEADER_BYTES) }],
    ];
    for (const [what, checkpoint] of cases) {
      expect([what, codeOf(() => encodeCheckpoint(checkpoint))]).toEqual([
        what,
        'invalid-checkpoint',
      ]);
    }
  });
});
