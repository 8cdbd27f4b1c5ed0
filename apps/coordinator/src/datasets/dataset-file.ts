import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import {
  SAFETENSORS_DTYPE_BYTES,
  SafetensorsError,
  deriveSeed,
  parseSafetensorsHeader,
  readSafetensorsHeaderLength,
  seededPermutation,
  selectExamples,
  uploadedDatasetInfo,
  type Dataset,
  type DatasetSplits,
  type SafetensorsEntry,
} from '@vtrain/ml';
import {
  MAX_DATASET_CLASSES,
  MAX_EXAMPLE_RANK,
  MIN_DATASET_CLASSES,
  type InputDtype,
} from '@vtrain/protocol';

/*
 * An uploaded data set is one safetensors file (what `safetensors.numpy.save_file`
 * writes) holding `x` (N, ...) F32 or U8, `y` (N,) U8, I32 or I64, and optionally
 * `test_x`, `test_y` of the same kinds (docs/api.md#data-sets). This module checks such
 * a file on disk without reading it whole (the upload may be hundreds of MB), and loads
 * a checked one as training and test sets.
 */

/** Every way an uploaded file can be refused, with the reason each code carries. */
export const DATASET_FILE_ERROR_CODES = {
  'too-large': 'the file is larger than the upload limit',
  'not-safetensors': 'the file is not a well-formed safetensors file',
  'bad-offsets':
    "the header's data offsets overlap, leave a gap, run out of the file or disagree with a shape",
  'missing-tensor': 'a required tensor is absent (x and y; test_x and test_y come together)',
  'extra-tensor': 'the file holds a tensor other than x, y, test_x and test_y',
  'wrong-dtype': 'x and test_x must be F32 or U8 (the same), y and test_y U8, I32 or I64',
  'shape-mismatch': 'the tensors do not have the shapes of one labelled set',
  'label-out-of-range': `a label is negative, or the classes (max label + 1) are not ${MIN_DATASET_CLASSES} to ${MAX_DATASET_CLASSES}`,
  'non-finite': 'an F32 input is NaN or infinite',
  'too-few-examples': 'too few examples to train and hold out a test set (2 at least)',
  'checksum-mismatch': 'the stored file no longer has the SHA-256 it was uploaded with',
} as const;

/** The string discriminant of a {@link DatasetFileError}. */
export type DatasetFileErrorCode = keyof typeof DATASET_FILE_ERROR_CODES;

/** Why an uploaded data set file was refused (HTTP 400, or 413 for `too-large`). */
export class DatasetFileError extends Error {
  override readonly name = 'DatasetFileError';

  constructor(
    readonly code: DatasetFileErrorCode,
    detail: string,
  ) {
    super(`${code}: ${DATASET_FILE_ERROR_CODES[code]} (${detail})`);
  }
}

/** What a checked file holds. */
export interface DatasetLayout {
  readonly inputShape: number[];
  readonly inputDtype: InputDtype;
  readonly classes: number;
  /** Examples of `x` in the file. */
  readonly fileExamples: number;
  /** Training examples, after the held-out part when the file has no test set. */
  readonly examples: number;
  readonly testExamples: number;
  readonly testSet: 'file' | 'held-out';
}

/** The share of `x` held out as the test set when the file has none: 10%, at least 1 example. */
export function heldOutCount(examples: number): number {
  return Math.max(1, Math.round(examples / 10));
}

const TENSOR_NAMES = ['x', 'y', 'test_x', 'test_y'] as const;
type TensorName = (typeof TENSOR_NAMES)[number];
const INPUT_DTYPES = { F32: 'f32', U8: 'u8' } as const;
const LABEL_DTYPES = ['U8', 'I32', 'I64'];
/** Chunk of a streamed check: a multiple of every dtype size. */
const CHUNK_BYTES = 4 * 1024 * 1024;
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Salt of the held-out split's permutation (ASCII "hold"): fixed, so every host cuts the same. */
const SALT_HOLD_OUT = 0x686f6c64;

interface CheckedHeader {
  readonly layout: DatasetLayout;
  readonly bufferStart: number;
  readonly tensors: ReadonlyMap<TensorName, SafetensorsEntry>;
}

/**
 * Checks a data set file on disk: the safetensors header (offsets tile the buffer exactly),
 * the tensor names, dtypes and shapes, then streams through the labels (range, classes) and
 * F32 inputs (finite) in 4 MB chunks, so the check holds little memory whatever the size.
 *
 * @throws {@link DatasetFileError} naming the first problem.
 */
export async function inspectDatasetFile(path: string): Promise<DatasetLayout> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const header = await readHeader(size, (length, position) => readAt(file, length, position));
    const { tensors, bufferStart } = header;
    const read = (length: number, position: number) => readAt(file, length, position);
    let maxLabel = -1;
    for (const name of ['y', 'test_y'] as const) {
      const entry = tensors.get(name);
      if (!entry) continue;
      await forEachChunk(entry, bufferStart, read, (chunk, first) => {
        maxLabel = Math.max(maxLabel, checkLabels(entry, chunk, first));
      });
    }
    const classes = maxLabel + 1;
    if (classes < MIN_DATASET_CLASSES || classes > MAX_DATASET_CLASSES) {
      throw new DatasetFileError('label-out-of-range', `the largest label is ${maxLabel}`);
    }
    for (const name of ['x', 'test_x'] as const) {
      const entry = tensors.get(name);
      if (entry?.dtype !== 'F32') continue;
      await forEachChunk(entry, bufferStart, read, (chunk, first) => {
        checkFinite(entry, chunk, first);
      });
    }
    return { ...header.layout, classes };
  } finally {
    await file.close();
  }
}

/**
 * Loads a checked data set file as training and test sets: the file's `test_x`, `test_y`,
 * or a held-out {@link heldOutCount} of `x` chosen by a fixed seeded permutation (the same
 * on every host and every start). With `sha256`, the file's hash must match it first.
 *
 * @throws {@link DatasetFileError} `checksum-mismatch`, or any check of
 *   {@link inspectDatasetFile} a file changed on disk might now fail.
 */
export async function loadDatasetFile(path: string, sha256?: string): Promise<DatasetSplits> {
  const bytes = await readFile(path);
  if (sha256 !== undefined) {
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== sha256) {
      throw new DatasetFileError('checksum-mismatch', `${path} has ${actual}, expected ${sha256}`);
    }
  }
  const header = await readHeader(bytes.length, (length, position) =>
    Promise.resolve(bytes.subarray(position, position + length)),
  );
  const { tensors, bufferStart, layout } = header;
  const tensor = (name: TensorName) => {
    const entry = tensors.get(name);
    return entry && bytes.subarray(bufferStart + entry.begin, bufferStart + entry.end);
  };
  const labelsOf = (name: 'y' | 'test_y') => {
    const entry = tensors.get(name);
    const data = tensor(name);
    if (!entry || !data) throw new DatasetFileError('missing-tensor', name);
    return labelArray(entry, data);
  };
  const yLabels = labelsOf('y');
  let classes = 0;
  for (const label of yLabels) classes = Math.max(classes, label + 1);
  const testLabels = tensors.has('test_y') ? labelsOf('test_y') : undefined;
  for (const label of testLabels ?? []) classes = Math.max(classes, label + 1);
  const info = uploadedDatasetInfo({ ...layout, classes });
  const wide = classes > 256;
  const asSet = (name: 'x' | 'test_x', labels: number[] | Int32Array): Dataset => {
    const data = tensor(name);
    if (!data) throw new DatasetFileError('missing-tensor', name);
    // A copy: F32 data in the file need not be 4-byte aligned, and the file buffer can go.
    const images =
      layout.inputDtype === 'f32'
        ? new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength))
        : new Uint8Array(data);
    const labelArrayOut = wide ? Uint16Array.from(labels) : Uint8Array.from(labels);
    return { images, labels: labelArrayOut, count: labels.length, info };
  };
  const all = asSet('x', yLabels);
  if (testLabels) return { train: all, test: asSet('test_x', testLabels) };
  const held = heldOutCount(all.count);
  const order = seededPermutation(all.count, deriveSeed(0, SALT_HOLD_OUT));
  return {
    train: selectExamples(all, order.slice(held).sort()),
    test: selectExamples(all, order.slice(0, held).sort()),
  };
}

async function readHeader(
  size: number,
  read: (length: number, position: number) => Promise<Uint8Array>,
): Promise<CheckedHeader> {
  let tensors: ReadonlyMap<TensorName, SafetensorsEntry>;
  let bufferStart: number;
  try {
    const headerLength = readSafetensorsHeaderLength(await read(8, 0), size);
    bufferStart = 8 + headerLength;
    const { entries } = parseSafetensorsHeader(await read(headerLength, 8), size - bufferStart, [
      'F32',
      'U8',
      'I32',
      'I64',
    ]);
    tensors = namedTensors(entries);
  } catch (error) {
    if (!(error instanceof SafetensorsError)) throw error;
    if (error.code === 'unsupported-dtype')
      throw new DatasetFileError('wrong-dtype', error.message);
    const lie = ['bad-offsets', 'out-of-range', 'trailing-bytes', 'shape-mismatch'];
    throw new DatasetFileError(
      lie.includes(error.code) ? 'bad-offsets' : 'not-safetensors',
      error.message,
    );
  }
  return { tensors, bufferStart, layout: checkLayout(tensors) };
}

function namedTensors(entries: readonly SafetensorsEntry[]): Map<TensorName, SafetensorsEntry> {
  const tensors = new Map<TensorName, SafetensorsEntry>();
  for (const entry of entries) {
    if (!(TENSOR_NAMES as readonly string[]).includes(entry.name)) {
      throw new DatasetFileError('extra-tensor', JSON.stringify(entry.name));
    }
    tensors.set(entry.name as TensorName, entry);
  }
  return tensors;
}

function checkLayout(tensors: ReadonlyMap<TensorName, SafetensorsEntry>): DatasetLayout {
  const x = tensors.get('x');
  const y = tensors.get('y');
  if (!x || !y) throw new DatasetFileError('missing-tensor', x ? 'y' : 'x');
  const testX = tensors.get('test_x');
  const testY = tensors.get('test_y');
  if ((testX === undefined) !== (testY === undefined)) {
    throw new DatasetFileError('missing-tensor', testX ? 'test_y' : 'test_x');
  }
  const inputDtype = INPUT_DTYPES[x.dtype as keyof typeof INPUT_DTYPES] as InputDtype | undefined;
  if (inputDtype === undefined) throw new DatasetFileError('wrong-dtype', `x is ${x.dtype}`);
  if (testX && testX.dtype !== x.dtype) {
    throw new DatasetFileError('wrong-dtype', `test_x is ${testX.dtype}, x is ${x.dtype}`);
  }
  for (const labels of [y, testY]) {
    if (labels && !LABEL_DTYPES.includes(labels.dtype)) {
      throw new DatasetFileError('wrong-dtype', `${labels.name} is ${labels.dtype}`);
    }
  }
  const inputShape = x.shape.slice(1);
  const checkPair = (inputs: SafetensorsEntry, labels: SafetensorsEntry) => {
    const shape = `${inputs.name} [${inputs.shape.join(', ')}], ${labels.name} [${labels.shape.join(', ')}]`;
    if (inputs.shape.length < 2 || inputs.shape.length > MAX_EXAMPLE_RANK + 1) {
      throw new DatasetFileError(
        'shape-mismatch',
        `${shape}: ${inputs.name} must be (N, ...) with 1 to ${MAX_EXAMPLE_RANK} dimensions after N`,
      );
    }
    if (inputs.shape.slice(1).some((dim) => dim === 0)) {
      throw new DatasetFileError('shape-mismatch', `${shape}: an example dimension is 0`);
    }
    if (labels.shape.length !== 1 || labels.shape[0] !== inputs.shape[0]) {
      throw new DatasetFileError(
        'shape-mismatch',
        `${shape}: ${labels.name} must be (N,) with N of ${inputs.name}`,
      );
    }
    if (inputs !== x && inputs.shape.slice(1).join() !== inputShape.join()) {
      throw new DatasetFileError(
        'shape-mismatch',
        `${shape}: examples of x are [${inputShape.join(', ')}]`,
      );
    }
  };
  checkPair(x, y);
  if (testX && testY) checkPair(testX, testY);
  const fileExamples = x.shape[0] ?? 0;
  const testFromFile = testX?.shape[0];
  if (testFromFile === undefined ? fileExamples < 2 : fileExamples < 1 || testFromFile < 1) {
    throw new DatasetFileError(
      'too-few-examples',
      `x holds ${fileExamples}${testFromFile === undefined ? '' : `, test_x ${testFromFile}`}`,
    );
  }
  const testExamples = testFromFile ?? heldOutCount(fileExamples);
  return {
    inputShape,
    inputDtype,
    classes: 0, // known once the labels are read
    fileExamples,
    examples: testFromFile === undefined ? fileExamples - testExamples : fileExamples,
    testExamples,
    testSet: testFromFile === undefined ? 'held-out' : 'file',
  };
}

async function readAt(
  file: Awaited<ReturnType<typeof open>>,
  length: number,
  position: number,
): Promise<Uint8Array> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await file.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

async function forEachChunk(
  entry: SafetensorsEntry,
  bufferStart: number,
  read: (length: number, position: number) => Promise<Uint8Array>,
  visit: (chunk: Uint8Array, firstElement: number) => void,
): Promise<void> {
  const size = SAFETENSORS_DTYPE_BYTES[entry.dtype];
  for (let at = entry.begin; at < entry.end; at += CHUNK_BYTES) {
    const chunk = await read(Math.min(CHUNK_BYTES, entry.end - at), bufferStart + at);
    visit(chunk, (at - entry.begin) / size);
  }
}

/** The labels of a chunk as numbers (I64 ones checked to be small first). */
function labelValues(entry: SafetensorsEntry, chunk: Uint8Array, first: number): ArrayLike<number> {
  const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  switch (entry.dtype) {
    case 'U8':
      return chunk;
    case 'I32':
      return Int32Array.from({ length: chunk.length / 4 }, (_, i) => view.getInt32(4 * i, true));
    default:
      return Float64Array.from({ length: chunk.length / 8 }, (_, i) => {
        const value = view.getBigInt64(8 * i, true);
        if (value < 0n || value >= BigInt(MAX_DATASET_CLASSES)) {
          throw new DatasetFileError(
            'label-out-of-range',
            `${entry.name}[${first + i}] is ${value}`,
          );
        }
        return Number(value);
      });
  }
}

/** Checks a chunk of labels and returns its largest. */
function checkLabels(entry: SafetensorsEntry, chunk: Uint8Array, first: number): number {
  const values = labelValues(entry, chunk, first);
  let max = -1;
  for (let i = 0; i < values.length; i++) {
    const value = values[i] ?? -1;
    if (value < 0 || value >= MAX_DATASET_CLASSES) {
      throw new DatasetFileError('label-out-of-range', `${entry.name}[${first + i}] is ${value}`);
    }
    if (value > max) max = value;
  }
  return max;
}

function checkFinite(entry: SafetensorsEntry, chunk: Uint8Array, first: number): void {
  const perExample = entry.shape.slice(1).reduce((a, b) => a * b, 1);
  // A fresh read buffer is 4-byte aligned: read it as floats directly (little-endian hosts).
  const values =
    chunk.byteOffset % 4 === 0 && HOST_IS_LITTLE_ENDIAN
      ? new Float32Array(chunk.buffer, chunk.byteOffset, chunk.length / 4)
      : Float32Array.from({ length: chunk.length / 4 }, (_, i) =>
          new DataView(chunk.buffer, chunk.byteOffset).getFloat32(4 * i, true),
        );
  for (let i = 0; i < values.length; i++) {
    const value = values[i] ?? 0;
    if (!Number.isFinite(value)) {
      const element = first + i;
      throw new DatasetFileError(
        'non-finite',
        `${entry.name} example ${Math.floor(element / perExample)}, value ${element % perExample} is ${value}`,
      );
    }
  }
}

/** All labels of a tensor as numbers. */
function labelArray(entry: SafetensorsEntry, data: Uint8Array): Int32Array {
  return Int32Array.from(labelValues(entry, data, 0));
}
