import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatasetFileError, loadDatasetFile } from './dataset-file.js';
import { DatasetStore } from './dataset-store.js';
import { blobsFile, datasetFile, gaussianBlobs } from './test-support/blobs.js';

/** What `safetensors.numpy.save_file({'x': uint8 [[0,128,255],[1,2,3]], 'y': int64 [0,1]})`
 * writes, computed by hand from the format: N = 112 (111 header characters and one space of
 * padding to a multiple of 8), the tensors in the reference writer's order (I64 before U8). */
const PYTHON_HEADER =
  '{"y":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},"x":{"dtype":"U8","shape":[2,3],"data_offsets":[16,22]}} ';
const PYTHON_FILE = Uint8Array.from([
  112,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  ...new TextEncoder().encode(PYTHON_HEADER),
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  1,
  0,
  0,
  0,
  0,
  0,
  0,
  0, // y: 0, 1 as int64 little-endian
  0,
  128,
  255,
  1,
  2,
  3, // x
]);

let directory: string;
let store: DatasetStore;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'vtrain-datasets-'));
  store = await DatasetStore.open(directory, 64 * 1024);
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

function upload(bytes: Uint8Array, name = 'set', declared: number | undefined = bytes.length) {
  // Several chunks, as a socket delivers them.
  const chunks = Array.from({ length: Math.ceil(bytes.length / 1000) }, (_, i) =>
    Buffer.from(bytes.subarray(i * 1000, (i + 1) * 1000)),
  );
  return store.upload(Readable.from(chunks), name, declared);
}

/** A file with the header text given as is, then `buffer`. */
function rawFile(header: string, buffer: number[]): Uint8Array {
  const text = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + text.length + buffer.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(buffer, 8 + text.length);
  return out;
}

const u8 = (values: number[]) => Uint8Array.from(values);
const f32 = (values: number[]) => Float32Array.from(values);

describe('the data set file format', () => {
  it("the project's writer writes the bytes computed by hand", () => {
    const bytes = datasetFile([
      { name: 'x', shape: [2, 3], data: u8([0, 128, 255, 1, 2, 3]) },
      { name: 'y', shape: [2], data: BigInt64Array.of(0n, 1n) },
    ]);
    // {"__metadata__":{},"x":...,"y":...} is 127 characters: 1 space pads it to 128.
    const header =
      '{"__metadata__":{},"x":{"dtype":"U8","shape":[2,3],"data_offsets":[0,6]},"y":{"dtype":"I64","shape":[2],"data_offsets":[6,22]}} ';
    expect(header.length).toBe(128);
    expect([...bytes]).toEqual([
      128,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      ...new TextEncoder().encode(header),
      0,
      128,
      255,
      1,
      2,
      3,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      1,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
    ]);
  });

  it("reads the file Python's safetensors writes: U8 inputs scaled later, I64 labels", async () => {
    const description = await upload(PYTHON_FILE, 'python');
    expect(description).toMatchObject({
      name: 'python',
      examples: 1,
      testExamples: 1,
      testSet: 'held-out',
      inputShape: [3],
      inputDtype: 'u8',
      classes: 2,
      bytes: PYTHON_FILE.length,
    });
    const { train, test } = await store.load(description.id);
    const rows = [...train.images, ...test.images];
    expect(rows.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 128, 255]);
    expect([train.labels[0], test.labels[0]].sort()).toEqual([0, 1]);
    expect(train.images).toBeInstanceOf(Uint8Array);
  });

  it('holds out a seeded 10% of x when the file has no test set, the same at every load', async () => {
    const description = await upload(blobsFile(200));
    expect(description).toMatchObject({ examples: 180, testExamples: 20, classes: 3 });
    const path = store.pathOf(description.id);
    const first = await loadDatasetFile(path, description.sha256);
    const again = await loadDatasetFile(path);
    expect(first.test.count).toBe(20);
    expect(first.train.count).toBe(180);
    expect([...first.test.labels]).toEqual([...again.test.labels]);
    expect([...first.test.images.subarray(0, 40)]).toEqual([...again.test.images.subarray(0, 40)]);
    expect(first.train.images).toBeInstanceOf(Float32Array);
  });

  it('uses test_x and test_y when given, with more than 256 classes as 16-bit labels', async () => {
    const n = 300;
    const description = await upload(
      datasetFile([
        { name: 'x', shape: [n, 2], data: new Float32Array(2 * n) },
        { name: 'y', shape: [n], data: Int32Array.from({ length: n }, (_, i) => i) },
        { name: 'test_x', shape: [2, 2], data: new Float32Array(4) },
        { name: 'test_y', shape: [2], data: Int32Array.of(0, 299) },
      ]),
    );
    expect(description).toMatchObject({
      examples: 300,
      testExamples: 2,
      testSet: 'file',
      classes: 300,
    });
    const { train, test } = await store.load(description.id);
    expect(train.labels).toBeInstanceOf(Uint16Array);
    expect([...test.labels]).toEqual([0, 299]);
  });

  it('survives a reopening of the folder, and checks the SHA-256 on load', async () => {
    const description = await upload(blobsFile(50));
    const reopened = await DatasetStore.open(directory);
    expect(reopened.get(description.id)).toEqual(description);
    const bytes = blobsFile(50, 2); // same size, other values
    await writeFile(reopened.pathOf(description.id), bytes);
    await expect(reopened.load(description.id)).rejects.toThrow(/checksum-mismatch/);
    expect(await reopened.remove(description.id)).toBe(true);
    expect(await readdir(directory)).toEqual([]);
  });
});

describe('refused uploads: a typed error naming the problem, and nothing left behind', () => {
  const x = { name: 'x', shape: [4, 2], data: f32([0, 1, 2, 3, 4, 5, 6, 7]) };
  const y = { name: 'y', shape: [4], data: u8([0, 1, 0, 1]) };
  const cases: [string, Uint8Array, string, RegExp][] = [
    [
      'an extra tensor',
      datasetFile([x, y, { name: 'w', shape: [1], data: f32([1]) }]),
      'extra-tensor',
      /"w"/,
    ],
    ['no labels', datasetFile([x]), 'missing-tensor', /\(y\)/],
    [
      'test_x without test_y',
      datasetFile([x, y, { name: 'test_x', shape: [1, 2], data: f32([1, 2]) }]),
      'missing-tensor',
      /test_y/,
    ],
    [
      'I32 inputs',
      datasetFile([{ ...x, data: Int32Array.from(x.data) }, y]),
      'wrong-dtype',
      /x is I32/,
    ],
    ['F32 labels', datasetFile([x, { ...y, data: f32([0, 1, 0, 1]) }]), 'wrong-dtype', /y is F32/],
    [
      'an F16 tensor',
      rawFile('{"x":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}', [0, 0]),
      'wrong-dtype',
      /F16/,
    ],
    [
      'labels for 3 of 4 examples',
      datasetFile([x, { ...y, shape: [3], data: u8([0, 1, 0]) }]),
      'shape-mismatch',
      /N of x/,
    ],
    [
      'x without example dimensions',
      datasetFile([{ ...x, shape: [8] }, y]),
      'shape-mismatch',
      /\(N, \.\.\.\)/,
    ],
    [
      'test_x of another example shape',
      datasetFile([
        x,
        y,
        { name: 'test_x', shape: [1, 3], data: f32([1, 2, 3]) },
        { name: 'test_y', shape: [1], data: u8([1]) },
      ]),
      'shape-mismatch',
      /examples of x are \[2\]/,
    ],
    [
      'a negative label',
      datasetFile([x, { ...y, data: Int32Array.of(0, 1, -1, 1) }]),
      'label-out-of-range',
      /y\[2\] is -1/,
    ],
    [
      'label 1000 (1001 classes)',
      datasetFile([x, { ...y, data: BigInt64Array.of(0n, 1n, 1000n, 1n) }]),
      'label-out-of-range',
      /y\[2\] is 1000/,
    ],
    [
      'a single class',
      datasetFile([x, { ...y, data: u8([0, 0, 0, 0]) }]),
      'label-out-of-range',
      /largest label is 0/,
    ],
    [
      'a NaN input',
      datasetFile([{ ...x, data: f32([0, 1, 2, Number.NaN, 4, 5, 6, 7]) }, y]),
      'non-finite',
      /example 1, value 1 is NaN/,
    ],
    [
      'an infinite input',
      datasetFile([{ ...x, data: f32([0, 1, 2, 3, 4, 5, 6, Number.POSITIVE_INFINITY]) }, y]),
      'non-finite',
      /Infinity/,
    ],
    [
      'overlapping offsets',
      rawFile(
        '{"x":{"dtype":"U8","shape":[2,2],"data_offsets":[0,4]},"y":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}',
        [0, 1, 0, 1],
      ),
      'bad-offsets',
      /y begins at 2, the previous tensor ends at 4/,
    ],
    [
      'offsets past the end of the file',
      rawFile(
        '{"x":{"dtype":"U8","shape":[2,2],"data_offsets":[0,4]},"y":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}',
        [0, 1, 0, 1, 0],
      ),
      'bad-offsets',
      /y ends at 6, the buffer holds 5 bytes/,
    ],
    [
      'a gap between tensors',
      rawFile(
        '{"x":{"dtype":"U8","shape":[2,2],"data_offsets":[0,4]},"y":{"dtype":"U8","shape":[2],"data_offsets":[5,7]}}',
        [0, 1, 0, 1, 9, 0, 1],
      ),
      'bad-offsets',
      /y begins at 5, the previous tensor ends at 4/,
    ],
    [
      'a shape that does not fill its span',
      rawFile(
        '{"x":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]},"y":{"dtype":"U8","shape":[2],"data_offsets":[12,14]}}',
        Array.from({ length: 14 }, () => 0),
      ),
      'bad-offsets',
      /needs 16 bytes, offsets span 12/,
    ],
    ['a header longer than the file', PYTHON_FILE.subarray(0, 60), 'not-safetensors', /truncated/],
    ['JSON that is not an object', rawFile('[1, 2]', []), 'not-safetensors', /bad-header/],
    [
      'a single example and no test set',
      datasetFile([
        { ...x, shape: [1, 2], data: f32([1, 2]) },
        { ...y, shape: [1], data: u8([1]) },
      ]),
      'too-few-examples',
      /x holds 1/,
    ],
  ];

  it.each(cases)('%s', async (_, bytes, code, message) => {
    const refusal = upload(bytes);
    await expect(refusal).rejects.toBeInstanceOf(DatasetFileError);
    await expect(refusal).rejects.toMatchObject({ code });
    await expect(refusal).rejects.toThrow(message);
    expect(await readdir(directory)).toEqual([]);
    expect(store.list()).toEqual([]);
  });

  it('a file above the size limit: declared, or streamed without a length', async () => {
    const big = blobsFile(1000); // 80 KB of inputs, over the 64 KB limit of this store
    await expect(upload(big)).rejects.toMatchObject({
      code: 'too-large',
      message: /limit is 65536/,
    });
    await expect(upload(big, 'set', undefined)).rejects.toMatchObject({ code: 'too-large' });
    expect(await readdir(directory)).toEqual([]);
  });

  it('the blobs generator itself is what the refusals are measured against', () => {
    const { x: values, y: labels } = gaussianBlobs(30);
    expect(values.length).toBe(600);
    expect(new Set(labels)).toEqual(new Set([0, 1, 2]));
  });
});
