import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { useFastestNodeBackend } from '../backend-node.js';
import { DATASET_INFO } from '../data/dataset-info.js';
import { mulberry32 } from '../random.js';
import { buildInitialModel, sha256Hex, weightsHash } from './initial-weights.js';

beforeAll(async () => {
  expect(await useFastestNodeBackend()).toBe('wasm');
});

function nodeSha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe('sha256Hex', () => {
  it('matches the FIPS 180-4 examples and node:crypto on every padding length', () => {
    expect(sha256Hex(new Uint8Array(0))).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(sha256Hex(new TextEncoder().encode('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    const random = mulberry32(5);
    // 55, 56 and 64 bytes straddle the one-block / two-block padding boundary.
    for (const length of [1, 55, 56, 63, 64, 65, 119, 120, 1000]) {
      const bytes = Uint8Array.from({ length }, () => Math.floor(random() * 256));
      expect(sha256Hex(bytes)).toBe(nodeSha256(bytes));
    }
  });
});

describe('weightsHash', () => {
  it('hashes the little-endian float32 bytes', () => {
    const weights = Float32Array.from([1, -2.5, 0, -0, 3e-39, 1e30]);
    const bytes = new Uint8Array(weights.length * 4);
    const view = new DataView(bytes.buffer);
    weights.forEach((w, i) => {
      view.setFloat32(i * 4, w, true);
    });
    expect(weightsHash(weights)).toBe(nodeSha256(bytes));
    // -0 and 0 are different bits, so different weights.
    expect(weightsHash(Float32Array.from([0]))).not.toBe(weightsHash(Float32Array.from([-0])));
  });
});

describe('buildInitialModel', () => {
  it('builds the same version-0 weights from the same spec and seed, other weights from another seed', async () => {
    const spec = { kind: 'mlp' as const, hiddenUnits: [32] };
    const a = await buildInitialModel(spec, DATASET_INFO.mnist, 7);
    const b = await buildInitialModel(spec, DATASET_INFO.mnist, 7);
    const c = await buildInitialModel(spec, DATASET_INFO.mnist, 8);
    expect(a.weights.length).toBe(784 * 32 + 32 + 32 * 10 + 10);
    expect(weightsHash(b.weights)).toBe(weightsHash(a.weights));
    expect(Buffer.from(b.weights.buffer).equals(Buffer.from(a.weights.buffer))).toBe(true);
    expect(weightsHash(c.weights)).not.toBe(weightsHash(a.weights));
    for (const m of [a, b, c]) m.model.dispose();
  });
});
