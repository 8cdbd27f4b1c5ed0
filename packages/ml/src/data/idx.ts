import { DatasetLoadError } from './load-error.js';

/** Magic number of an IDX file of unsigned bytes with 3 dimensions (images). */
export const IDX_IMAGES_MAGIC = 2051;
/** Magic number of an IDX file of unsigned bytes with 1 dimension (labels). */
export const IDX_LABELS_MAGIC = 2049;

/** The payload of an IDX image file: a view on the input bytes, no copy. */
export interface IdxImages {
  readonly count: number;
  readonly rows: number;
  readonly columns: number;
  /** count * rows * columns bytes, row-major. */
  readonly pixels: Uint8Array;
}

/**
 * Parses an IDX3 u8 file (LeCun et al., yann.lecun.com/exdb/mnist): a 16-byte
 * big-endian header [magic 2051, count, rows, columns] then count * rows *
 * columns bytes. The pixels are a subarray of `bytes`: MNIST's 47 MB load with
 * no per-pixel work.
 *
 * @throws {@link DatasetLoadError} `bad-magic`, `truncated` or `trailing-bytes`.
 */
export function parseIdxImages(bytes: Uint8Array, source = 'IDX images'): IdxImages {
  const header = readHeader(bytes, 16, IDX_IMAGES_MAGIC, source);
  const count = header.getUint32(4);
  const rows = header.getUint32(8);
  const columns = header.getUint32(12);
  const pixels = payload(bytes, 16, count * rows * columns, source);
  return { count, rows, columns, pixels };
}

/**
 * Parses an IDX1 u8 file: an 8-byte big-endian header [magic 2049, count] then
 * count label bytes, returned as a subarray of `bytes`.
 *
 * @throws {@link DatasetLoadError} `bad-magic`, `truncated` or `trailing-bytes`.
 */
export function parseIdxLabels(bytes: Uint8Array, source = 'IDX labels'): Uint8Array {
  const header = readHeader(bytes, 8, IDX_LABELS_MAGIC, source);
  return payload(bytes, 8, header.getUint32(4), source);
}

function readHeader(bytes: Uint8Array, size: number, magic: number, source: string): DataView {
  if (bytes.length < size) {
    throw new DatasetLoadError(
      'truncated',
      `${source}: ${bytes.length} bytes, shorter than the ${size}-byte IDX header`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, size);
  const found = view.getUint32(0);
  if (found !== magic) {
    throw new DatasetLoadError('bad-magic', `${source}: magic number ${found}, expected ${magic}`);
  }
  return view;
}

function payload(bytes: Uint8Array, offset: number, length: number, source: string): Uint8Array {
  const expected = offset + length;
  if (bytes.length < expected) {
    throw new DatasetLoadError(
      'truncated',
      `${source}: ${bytes.length} bytes, the header declares ${expected}`,
    );
  }
  if (bytes.length > expected) {
    throw new DatasetLoadError(
      'trailing-bytes',
      `${source}: ${bytes.length} bytes, the header declares ${expected}`,
    );
  }
  return bytes.subarray(offset, expected);
}
