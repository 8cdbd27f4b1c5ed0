import { CodedError } from '../coded-error.js';
import { pixelsPerExample, type DatasetInfo } from './dataset-info.js';
import { DatasetError, type Dataset } from './dataset.js';

/**
 * Every way shard bytes (or an encoder argument) can be wrong, with the reason
 * each code carries. One code per check, so a test can assert which one fired.
 */
export const SHARD_FORMAT_ERROR_CODES = {
  truncated: 'the bytes end before the header or the declared content',
  'trailing-bytes': 'the bytes continue past the declared content',
  'bad-magic': 'the first 4 bytes are not "VTSH"',
  'bad-version': 'the version byte is not one this decoder reads',
  'shape-mismatch':
    'the example shape or value type differs from the data set the shard belongs to',
  'label-out-of-range': 'a label is not below the number of classes',
  'non-finite': 'an f32 example value is NaN or infinite',
  'too-large': 'the shard does not fit the format (count or a dimension above 2^32 - 1)',
} as const;

/** The string discriminant of a {@link ShardFormatError}. */
export type ShardFormatErrorCode = keyof typeof SHARD_FORMAT_ERROR_CODES;

/** The only error {@link decodeShard} throws: the whole shard is valid, or this. */
export class ShardFormatError extends CodedError<ShardFormatErrorCode> {
  /**
   * @param code - which check failed.
   * @param detail - the values involved, appended to the code's standard reason.
   */
  constructor(code: ShardFormatErrorCode, detail: string) {
    super(code, `${SHARD_FORMAT_ERROR_CODES[code]}: ${detail}`);
  }
}

/** "VTSH" in ASCII: the first 4 bytes of every shard. */
export const SHARD_MAGIC = Uint8Array.of(0x56, 0x54, 0x53, 0x48);
/** The format version of a built-in set's shard: u8 images of at most 255 x 255 x 255. */
export const SHARD_VERSION = 1;
/** The format version of any other shard (an uploaded set's): any shape, u8 or f32, 16-bit labels. */
export const SHARD_VERSION_GENERAL = 2;
/** magic (4) + version (1) + count (u32, 4) + height, width, channels (u8 each). */
export const SHARD_HEADER_BYTES = 12;
/** Version 2's fixed part: magic (4), version (1), count (u32), value type, label bytes, rank. */
const GENERAL_FIXED_BYTES = 12;
const VALUE_TYPES = ['u8', 'f32'] as const;

/**
 * Encodes a shard, the unit the coordinator serves over HTTP and a browser
 * caches. All integers little-endian. Version 1, written for u8 examples of shape
 * [h, w, c] with every dimension <= 255 and u8 labels (every built-in set, so their
 * shards, and browsers' caches of them, stay what they were):
 *
 * | offset | size | field |
 * |---|---|---|
 * | 0 | 4 | magic "VTSH" |
 * | 4 | 1 | version = 1 |
 * | 5 | 4 | count (u32) |
 * | 9 | 1 | height (u8) |
 * | 10 | 1 | width (u8) |
 * | 11 | 1 | channels (u8) |
 * | 12 | count | labels, u8 each |
 * | 12 + count | count * h * w * c | pixels, u8, example-major then row-major |
 *
 * Total: 12 + count * (1 + h * w * c) bytes; an MNIST shard of 3750 examples is 2.9 MB.
 *
 * Version 2, for everything else (uploaded sets): after magic, version = 2 and count
 * (offsets 0-8 as above), byte 9 is the value type (0 u8, 1 f32), byte 10 the label width
 * L (1 or 2 bytes), byte 11 the rank r (1-4); then r dimensions as u32; then count labels
 * of L bytes; then count * P values (P the product of the dimensions) of 1 or 4 bytes.
 *
 * @param dataset - the examples; with `indices`, only those, in that order (no
 *   intermediate copy of the selected subset is made).
 * @throws {@link ShardFormatError} `too-large`, or {@link DatasetError} for an
 *   inconsistent data set or an index out of range.
 */
export function encodeShard(dataset: Dataset, indices?: ArrayLike<number>): Uint8Array {
  const { info } = dataset;
  const perExample = pixelsPerExample(info);
  if (
    dataset.images.length !== dataset.count * perExample ||
    dataset.labels.length !== dataset.count
  ) {
    throw new DatasetError(
      'length-mismatch',
      `images (${dataset.images.length}) and labels (${dataset.labels.length}) do not hold ${dataset.count} examples`,
    );
  }
  for (const dim of info.inputShape) {
    if (dim > 0xffffffff) throw new ShardFormatError('too-large', `dimension ${dim}`);
  }
  const count = indices === undefined ? dataset.count : indices.length;
  if (count > 0xffffffff) throw new ShardFormatError('too-large', `${count} examples`);
  const floats = dataset.images instanceof Float32Array;
  const wideLabels = dataset.labels instanceof Uint16Array;
  const classic =
    !floats &&
    !wideLabels &&
    info.inputShape.length === 3 &&
    info.inputShape.every((d) => d <= 255);
  const valueBytes = floats ? 4 : 1;
  const labelBytes = wideLabels ? 2 : 1;
  const headerBytes = classic
    ? SHARD_HEADER_BYTES
    : GENERAL_FIXED_BYTES + 4 * info.inputShape.length;
  const bytes = new Uint8Array(headerBytes + count * (labelBytes + valueBytes * perExample));
  bytes.set(SHARD_MAGIC, 0);
  const view = new DataView(bytes.buffer);
  view.setUint32(5, count, true);
  if (classic) {
    view.setUint8(4, SHARD_VERSION);
    info.inputShape.forEach((dim, i) => {
      view.setUint8(9 + i, dim);
    });
  } else {
    view.setUint8(4, SHARD_VERSION_GENERAL);
    view.setUint8(9, floats ? 1 : 0);
    view.setUint8(10, labelBytes);
    view.setUint8(11, info.inputShape.length);
    info.inputShape.forEach((dim, i) => {
      view.setUint32(GENERAL_FIXED_BYTES + 4 * i, dim, true);
    });
  }
  const labelsAt = headerBytes;
  const valuesAt = headerBytes + count * labelBytes;
  const exampleBytes = valueBytes * perExample;
  const source = new Uint8Array(
    dataset.images.buffer,
    dataset.images.byteOffset,
    dataset.images.byteLength,
  );
  for (let k = 0; k < count; k++) {
    const i = indices === undefined ? k : indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= dataset.count) {
      throw new DatasetError(
        'index-out-of-range',
        `index ${i} at position ${k} is not an example of a set of ${dataset.count}`,
      );
    }
    if (labelBytes === 1) bytes[labelsAt + k] = dataset.labels[i];
    else view.setUint16(labelsAt + 2 * k, dataset.labels[i], true);
    // Float32Array bytes are the host's order; every host tfjs runs on is little-endian.
    bytes.set(
      source.subarray(i * exampleBytes, (i + 1) * exampleBytes),
      valuesAt + k * exampleBytes,
    );
  }
  return bytes;
}

/**
 * Decodes and checks a shard produced by {@link encodeShard}: magic, version,
 * exact length, example shape and value type equal to `info`'s, every label
 * < info.classes and every f32 value finite. The result owns copies of its
 * arrays, so later changes to `bytes` (a reused network buffer) cannot alter
 * checked labels.
 *
 * @param bytes - the shard as fetched.
 * @param info - the data set the shard must belong to.
 * @throws {@link ShardFormatError} with the first failed check's code; never a partial result.
 */
export function decodeShard(bytes: Uint8Array, info: DatasetInfo): Dataset {
  if (bytes.length < SHARD_HEADER_BYTES) {
    throw new ShardFormatError(
      'truncated',
      `${bytes.length} bytes, the header alone is ${SHARD_HEADER_BYTES}`,
    );
  }
  for (let i = 0; i < SHARD_MAGIC.length; i++) {
    if (bytes[i] !== SHARD_MAGIC[i]) {
      throw new ShardFormatError(
        'bad-magic',
        `byte ${i} is ${bytes[i]}, expected ${SHARD_MAGIC[i]}`,
      );
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint8(4);
  if (version !== SHARD_VERSION && version !== SHARD_VERSION_GENERAL) {
    throw new ShardFormatError(
      'bad-version',
      `version ${version}, this decoder reads ${SHARD_VERSION} and ${SHARD_VERSION_GENERAL}`,
    );
  }
  const count = view.getUint32(5, true);
  let shape: number[];
  let valueType: (typeof VALUE_TYPES)[number] | undefined = 'u8';
  let labelBytes = 1;
  let headerBytes = SHARD_HEADER_BYTES;
  if (version === SHARD_VERSION) {
    shape = [view.getUint8(9), view.getUint8(10), view.getUint8(11)];
  } else {
    valueType = VALUE_TYPES[view.getUint8(9)];
    labelBytes = view.getUint8(10);
    const rank = view.getUint8(11);
    headerBytes = GENERAL_FIXED_BYTES + 4 * rank;
    if (bytes.length < headerBytes) {
      throw new ShardFormatError(
        'truncated',
        `${bytes.length} bytes, the header is ${headerBytes}`,
      );
    }
    shape = Array.from({ length: rank }, (_, i) =>
      view.getUint32(GENERAL_FIXED_BYTES + 4 * i, true),
    );
  }
  if (
    valueType !== info.inputDtype ||
    (labelBytes !== 1 && labelBytes !== 2) ||
    shape.length !== info.inputShape.length ||
    shape.some((dim, i) => dim !== info.inputShape[i])
  ) {
    throw new ShardFormatError(
      'shape-mismatch',
      `shard is [${shape.join(', ')}] ${valueType} with ${labelBytes}-byte labels, ${info.name} is [${info.inputShape.join(', ')}] ${info.inputDtype}`,
    );
  }
  const valueBytes = valueType === 'f32' ? 4 : 1;
  const perExample = pixelsPerExample(info);
  const expected = headerBytes + count * (labelBytes + valueBytes * perExample);
  if (bytes.length < expected) {
    throw new ShardFormatError(
      'truncated',
      `${bytes.length} bytes, the header declares ${expected}`,
    );
  }
  if (bytes.length > expected) {
    throw new ShardFormatError(
      'trailing-bytes',
      `${bytes.length} bytes, the header declares ${expected}`,
    );
  }
  const labels = labelBytes === 1 ? new Uint8Array(count) : new Uint16Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] =
      labelBytes === 1 ? view.getUint8(headerBytes + i) : view.getUint16(headerBytes + 2 * i, true);
    if (labels[i] >= info.classes) {
      throw new ShardFormatError(
        'label-out-of-range',
        `label ${labels[i]} of example ${i}, ${info.name} has ${info.classes} classes`,
      );
    }
  }
  const valuesAt = headerBytes + count * labelBytes;
  const copy = bytes.slice(valuesAt, expected);
  if (valueType === 'u8') return { images: copy, labels, count, info };
  const images = new Float32Array(copy.buffer, 0, count * perExample);
  for (let j = 0; j < images.length; j++) {
    if (!Number.isFinite(images[j])) {
      throw new ShardFormatError(
        'non-finite',
        `value ${images[j]} at ${j % perExample} of example ${Math.floor(j / perExample)}`,
      );
    }
  }
  return { images, labels, count, info };
}
