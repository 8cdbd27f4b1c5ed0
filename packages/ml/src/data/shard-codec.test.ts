import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sameElements } from '../test-support/bytes.js';
import { DATASET_INFO, uploadedDatasetInfo } from './dataset-info.js';
import { selectExamples, type Dataset } from './dataset.js';
import { decodeShard, encodeShard, SHARD_HEADER_BYTES, ShardFormatError } from './shard-codec.js';

const info = DATASET_INFO.mnist;

function datasetOf(labels: number[], seed = 1): Dataset {
  const count = labels.length;
  const images = Uint8Array.from({ length: count * 784 }, (_, i) => (i * 31 + seed) & 0xff);
  return { images, labels: Uint8Array.from(labels), count, info };
}

describe('shard codec', () => {
  it('lays out the header as specified', () => {
    const bytes = encodeShard(datasetOf([3, 9]));
    // 12 header bytes + 2 labels + 2 * 784 pixels = 1582.
    expect(bytes.length).toBe(1582);
    expect(Array.from(bytes.subarray(0, 14))).toEqual([
      0x56,
      0x54,
      0x53,
      0x48, // "VTSH"
      1, // version
      2,
      0,
      0,
      0, // count 2, u32 little-endian
      28,
      28,
      1, // height, width, channels
      3,
      9, // labels
    ]);
    expect(bytes[14]).toBe((0 * 31 + 1) & 0xff); // first pixel of example 0
  });

  it('round-trips any data set, and a selection by indices', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 20 }),
        fc.nat(255),
        (labels, seed) => {
          const dataset = datasetOf(labels, seed);
          const decoded = decodeShard(encodeShard(dataset), info);
          expect(decoded.count).toBe(dataset.count);
          expect(sameElements(decoded.labels, dataset.labels)).toBe(true);
          expect(sameElements(decoded.images, dataset.images)).toBe(true);
          const indices = Uint32Array.from(labels.map((_, i) => labels.length - 1 - i));
          const direct = encodeShard(dataset, indices);
          expect(sameElements(direct, encodeShard(selectExamples(dataset, indices)))).toBe(true);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('returns arrays that do not alias the input bytes', () => {
    const bytes = encodeShard(datasetOf([1]));
    const decoded = decodeShard(bytes, info);
    bytes[SHARD_HEADER_BYTES] = 200;
    bytes[SHARD_HEADER_BYTES + 1] = 77;
    expect(decoded.labels[0]).toBe(1);
    expect(decoded.images[0]).toBe(1);
  });

  describe('rejects', () => {
    const good = encodeShard(datasetOf([1, 2]));
    const mutate = (f: (b: Uint8Array) => Uint8Array) => f(good.slice());
    const cases: [string, Uint8Array, string][] = [
      ['a buffer shorter than the header', good.subarray(0, 11), 'truncated'],
      ['a missing last pixel', good.subarray(0, good.length - 1), 'truncated'],
      ['an extra byte', Uint8Array.from([...good, 0]), 'trailing-bytes'],
      ['a wrong magic', mutate((b) => ((b[0] = 0x57), b)), 'bad-magic'],
      ['version 3', mutate((b) => ((b[4] = 3), b)), 'bad-version'],
      ['a 32x28 geometry', mutate((b) => ((b[9] = 32), b)), 'shape-mismatch'],
      ['label 10 of 10 classes', mutate((b) => ((b[13] = 10), b)), 'label-out-of-range'],
      ['a count larger than the payload', mutate((b) => ((b[5] = 3), b)), 'truncated'],
      ['a count of 2^32 - 1', mutate((b) => (b.set([255, 255, 255, 255], 5), b)), 'truncated'],
    ];
    it.each(cases)('%s', (_, bytes, code) => {
      expect(() => decodeShard(bytes, info)).toThrow(ShardFormatError);
      expect(() => decodeShard(bytes, info)).toThrow(expect.objectContaining({ code }));
    });
  });

  it('refuses to encode an index outside the data set', () => {
    expect(() => encodeShard(datasetOf([1]), [1])).toThrow(
      expect.objectContaining({ code: 'index-out-of-range' }),
    );
  });

  describe('version 2 (uploaded sets)', () => {
    const vector = uploadedDatasetInfo({ inputShape: [3], inputDtype: 'f32', classes: 300 });
    const set: Dataset = {
      images: Float32Array.of(0.5, -2, 1e6, 3, 4, 5),
      labels: Uint16Array.of(299, 7),
      count: 2,
      info: vector,
    };

    it('carries f32 values, 16-bit labels and any shape, byte for byte as documented', () => {
      const bytes = encodeShard(set, [1, 0]);
      // magic, version 2, count 2, f32, 2-byte labels, rank 1, [3], labels 7 and 299, values
      expect([...bytes.subarray(0, 20)]).toEqual([
        0x56, 0x54, 0x53, 0x48, 2, 2, 0, 0, 0, 1, 2, 1, 3, 0, 0, 0, 7, 0, 43, 1,
      ]);
      expect(bytes.length).toBe(16 + 2 * (2 + 12));
      const decoded = decodeShard(bytes, vector);
      expect([...decoded.labels]).toEqual([7, 299]);
      expect([...decoded.images]).toEqual([3, 4, 5, 0.5, -2, 1e6]);
      expect(decoded.images).toBeInstanceOf(Float32Array);
    });

    it('keeps version 1 for u8 images of at most 255 per dimension', () => {
      expect(encodeShard(datasetOf([1]))[4]).toBe(1);
      const big = uploadedDatasetInfo({ inputShape: [300, 1, 1], inputDtype: 'u8', classes: 2 });
      const bytes = encodeShard({
        images: new Uint8Array(300),
        labels: Uint8Array.of(1),
        count: 1,
        info: big,
      });
      expect(bytes[4]).toBe(2);
      expect(decodeShard(bytes, big).images.length).toBe(300);
    });

    it('refuses another shape or dtype, a label out of range and a non-finite value', () => {
      const bytes = encodeShard(set);
      const other = uploadedDatasetInfo({ inputShape: [3], inputDtype: 'u8', classes: 300 });
      const fewer = uploadedDatasetInfo({ inputShape: [3], inputDtype: 'f32', classes: 299 });
      const nan = bytes.slice();
      new DataView(nan.buffer).setFloat32(bytes.length - 4, Number.NaN, true);
      const codeOf = (b: Uint8Array, i: typeof vector) => {
        try {
          decodeShard(b, i);
        } catch (error) {
          return (error as ShardFormatError).code;
        }
        return 'decoded';
      };
      expect(codeOf(bytes, other)).toBe('shape-mismatch');
      expect(codeOf(bytes, fewer)).toBe('label-out-of-range');
      expect(codeOf(nan, vector)).toBe('non-finite');
      expect(codeOf(bytes.subarray(0, 14), vector)).toBe('truncated');
    });
  });
});
