import { describe, expect, it } from 'vitest';
import { encodeSparseUpdate } from './codec/index.js';
import { MAX_PARAMETER_COUNT, maxUpdateMessageBytes } from './limits.js';

describe('message limits', () => {
  it('the bound holds for the worst legitimate update: k entries spread to the far end', () => {
    const length = 101_770;
    const k = 1018; // ceil(0.01 * 101,770)
    // Largest gaps first: index 0, then one big jump, then consecutive tail: the
    // bound must hold for every layout, this one maximises the first varint.
    const indices = new Uint32Array(k).map((_, i) => (i === 0 ? 0 : length - k + i));
    const values = new Float32Array(k).fill(1);
    const bytes = encodeSparseUpdate({ length, indices, values }, { valueFormat: 'f32' });
    expect(bytes.byteLength).toBeLessThanOrEqual(maxUpdateMessageBytes(length, k, 'f32'));
  });

  it('at 1% density the largest model update stays under 3 MB', () => {
    const bytes = maxUpdateMessageBytes(MAX_PARAMETER_COUNT, MAX_PARAMETER_COUNT / 100, 'f32');
    expect(bytes).toBeLessThan(3 * 1024 * 1024);
  });
});
