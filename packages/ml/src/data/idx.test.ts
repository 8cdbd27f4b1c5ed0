import { describe, expect, it } from 'vitest';
import { parseIdxImages, parseIdxLabels } from './idx.js';

/** Big-endian u32 bytes. */
const u32 = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];

describe('parseIdxImages', () => {
  // Magic 2051 = 0x00000803; 2 images of 2 rows x 3 columns = 12 pixel bytes.
  const bytes = Uint8Array.from([
    ...u32(2051),
    ...u32(2),
    ...u32(2),
    ...u32(3),
    ...Array.from({ length: 12 }, (_, i) => i * 10),
  ]);

  it('reads the header and returns the payload as a view, not a copy', () => {
    const parsed = parseIdxImages(bytes);
    expect(parsed).toMatchObject({ count: 2, rows: 2, columns: 3 });
    expect(Array.from(parsed.pixels)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110]);
    expect(parsed.pixels.buffer).toBe(bytes.buffer);
    expect(parsed.pixels.byteOffset).toBe(16);
  });

  it('rejects a wrong magic, a short header, a short payload and extra bytes', () => {
    const labelsMagic = bytes.slice();
    labelsMagic[3] = 0x01; // 0x00000801 = 2049, the labels magic
    expect(() => parseIdxImages(labelsMagic)).toThrow(
      expect.objectContaining({ code: 'bad-magic' }),
    );
    expect(() => parseIdxImages(bytes.subarray(0, 15))).toThrow(
      expect.objectContaining({ code: 'truncated' }),
    );
    expect(() => parseIdxImages(bytes.subarray(0, 27))).toThrow(
      expect.objectContaining({ code: 'truncated' }),
    );
    const longer = new Uint8Array(29);
    longer.set(bytes);
    expect(() => parseIdxImages(longer)).toThrow(
      expect.objectContaining({ code: 'trailing-bytes' }),
    );
  });
});

describe('parseIdxLabels', () => {
  it('reads count labels after the 8-byte header', () => {
    const bytes = Uint8Array.from([...u32(2049), ...u32(3), 7, 0, 9]);
    expect(Array.from(parseIdxLabels(bytes))).toEqual([7, 0, 9]);
    expect(() => parseIdxLabels(bytes.subarray(0, 10))).toThrow(
      expect.objectContaining({ code: 'truncated' }),
    );
    expect(() => parseIdxLabels(Uint8Array.from([...u32(2051), ...u32(0)]))).toThrow(
      expect.objectContaining({ code: 'bad-magic' }),
    );
  });

  it('reads a subarray that does not start at byte 0 of its buffer', () => {
    const backing = Uint8Array.from([1, 2, 3, ...u32(2049), ...u32(1), 4]);
    expect(Array.from(parseIdxLabels(backing.subarray(3)))).toEqual([4]);
  });
});
