import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sameElements } from '../test-support/bytes.js';
import { assertValidDataset, classCounts } from './dataset.js';
import { parseFashionClassJson } from './fashion-json.js';
import { loadDataset, FASHION_TEST_PER_CLASS } from './node-loaders.js';

describe('loadDataset mnist', () => {
  it('reads the 60,000 / 10,000 IDX sets with the published class counts, fast', async () => {
    const started = performance.now();
    const { train, test } = await loadDataset('mnist');
    const ms = performance.now() - started;
    console.log(`MNIST loaded in ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(1000);
    assertValidDataset(train);
    assertValidDataset(test);
    expect([train.count, test.count]).toEqual([60_000, 10_000]);
    // Per-class counts as published with the data set (LeCun et al.).
    expect(Array.from(classCounts(train.labels, 10))).toEqual([
      5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949,
    ]);
    expect(Array.from(classCounts(test.labels, 10))).toEqual([
      980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009,
    ]);
    expect(train.labels[0]).toBe(5); // the famous first training digit
    // The usual normalisation constant: mean pixel 0.1307 * 255 = 33.33.
    let sum = 0;
    for (const v of train.images) sum += v;
    expect(sum / train.images.length).toBeCloseTo(33.318, 2);
  });
});

describe('loadDataset fashion-mnist', () => {
  it('holds out the last 1000 per class, interleaves classes, and matches JSON.parse', async () => {
    const { train, test } = await loadDataset('fashion-mnist');
    assertValidDataset(train);
    assertValidDataset(test);
    expect([train.count, test.count]).toEqual([60_000, 10_000]);
    expect(Array.from(classCounts(train.labels, 10))).toEqual(new Array<number>(10).fill(6000));
    expect(Array.from(classCounts(test.labels, 10))).toEqual(
      new Array<number>(10).fill(FASHION_TEST_PER_CLASS),
    );
    // Interleaved: example i has label i mod 10 (every class has the same count).
    expect(train.labels.every((label, i) => label === i % 10)).toBe(true);

    // Cross-check class 3 against the package's own JSON via JSON.parse.
    const file = path.join(
      path.dirname(createRequire(import.meta.url).resolve('fashion-mnist/package.json')),
      'src/clothes/3.json',
    );
    const text = await readFile(file, 'utf8');
    const rows = (JSON.parse(text) as { data: number[][] }).data.filter((r) => r.length > 0);
    expect(rows).toHaveLength(7000);
    const fast = parseFashionClassJson(new TextEncoder().encode(text));
    expect(sameElements(fast.images, rows.flat())).toBe(true);
    // Train example j of class 3 is at 10 j + 3; test example j of class 3 is row 6000 + j.
    expect(sameElements(train.images.subarray(13 * 784, 14 * 784), rows[1])).toBe(true);
    expect(sameElements(test.images.subarray(23 * 784, 24 * 784), rows[6002])).toBe(true);
  });
});

describe('loadDataset synthetic', () => {
  it('generates the default 12,000 / 2,000 from seed 0', async () => {
    const { train, test } = await loadDataset('synthetic');
    expect([train.count, test.count]).toEqual([12_000, 2_000]);
    expect(train.info.name).toBe('synthetic');
  });
});
