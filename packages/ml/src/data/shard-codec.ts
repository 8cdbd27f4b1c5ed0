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
  'shape-mismatch': 'height, width or channels differ from the data set the shard belongs to',
  'label-out-of-range': 'a label is not below the number of classes',
  'too-large': 'the shard does not fit the format (count above 2^32 - 1, a dimension above 255)',
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
/** The format version this code writes and reads. */
export const SHARD_VERSION = 1;
/** magic (4) + version (1) + count (u32, 4) + height, width, channels (u8 each). */
export const SHARD_HEADER_BYTES = 12;

/**
 * Encodes a shard, the unit the coordinator serves over HTTP and a browser
 * caches. Layout (all integers little-endian):
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
  for (const [name, size] of [
    ['height', info.height],
    ['width', info.width],
    ['channels', info.channels],
  ] as const) {
    if (size > 255) throw new ShardFormatError('too-large', `${name} ${size} exceeds 255`);
  }
  const count = indices === undefined ? dataset.count : indices.length;
  if (count > 0xffffffff) throw new ShardFormatError('too-large', `${count} examples`);
  const bytes = new Uint8Array(SHARD_HEADER_BYTES + count * (1 + perExample));
  bytes.set(SHARD_MAGIC, 0);
  const view = new DataView(bytes.buffer);
  view.setUint8(4, SHARD_VERSION);
  view.setUint32(5, count, true);
  view.setUint8(9, info.height);
  view.setUint8(10, info.width);
  view.setUint8(11, info.channels);
  const labelsAt = SHARD_HEADER_BYTES;
  const pixelsAt = SHARD_HEADER_BYTES + count;
  if (indices === undefined) {
    bytes.set(dataset.labels, labelsAt);
    bytes.set(dataset.images, pixelsAt);
  } else {
    for (let k = 0; k < count; k++) {
      const i = indices[k];
      if (!Number.isInteger(i) || i < 0 || i >= dataset.count) {
        throw new DatasetError(
          'index-out-of-range',
          `index ${i} at position ${k} is not an example of a set of ${dataset.count}`,
        );
      }
      bytes[labelsAt + k] = dataset.labels[i];
      bytes.set(
        dataset.images.subarray(i * perExample, (i + 1) * perExample),
        pixelsAt + k * perExample,
      );
    }
  }
  return bytes;
}

/**
 * Decodes and checks a shard produced by {@link encodeShard}: magic, version,
 * exact length 12 + count * (1 + h w c), geometry equal to `info`'s and every
 * label < info.classes. The result owns copies of its arrays, so later changes
 * to `bytes` (a reused network buffer) cannot alter checked labels.
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
  const view = new DataView(bytes.buffer, bytes.byteOffset, SHARD_HEADER_BYTES);
  const version = view.getUint8(4);
  if (version !== SHARD_VERSION) {
    throw new ShardFormatError(
      'bad-version',
      `version ${version}, this decoder reads ${SHARD_VERSION}`,
    );
  }
  const count = view.getUint32(5, true);
  const height = view.getUint8(9);
  const width = view.getUint8(10);
  const channels = view.getUint8(11);
  if (height !== info.height || width !== info.width || channels !== info.channels) {
    throw new ShardFormatError(
      'shape-mismatch',
      `shard is ${height}x${width}x${channels}, ${info.name} is ${info.height}x${info.width}x${info.channels}`,
    );
  }
  const perExample = height * width * channels;
  const expected = SHARD_HEADER_BYTES + count * (1 + perExample);
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
  const labels = bytes.slice(SHARD_HEADER_BYTES, SHARD_HEADER_BYTES + count);
  for (let i = 0; i < count; i++) {
    if (labels[i] >= info.classes) {
      throw new ShardFormatError(
        'label-out-of-range',
        `label ${labels[i]} of example ${i}, ${info.name} has ${info.classes} classes`,
      );
    }
  }
  const images = bytes.slice(SHARD_HEADER_BYTES + count, expected);
  return { images, labels, count, info };
}
