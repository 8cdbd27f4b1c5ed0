import { ByteReader } from './byte-reader.js';
import { CodecError } from './codec-error.js';
import { decodeUtf8, encodeUtf8 } from './utf8.js';
import { MAX_UINT32 } from './varint.js';

/** One named tensor of model weights, row-major float32. */
export interface DenseTensor {
  /** Non-empty, unique within the set, at most 65535 UTF-8 bytes. */
  name: string;
  /** Dimensions, rank <= 255, each an integer in [0, 2^32 - 1]; [] is a scalar. */
  shape: number[];
  /** Finite values; `data.length` equals the product of `shape` (1 for a scalar). */
  data: Float32Array;
}

/** A full set of model weights, in the model's own tensor order. */
export interface DenseWeights {
  tensors: DenseTensor[];
}

/** Bounds the decoder enforces before it allocates or trusts anything. */
export interface DenseDecodeLimits {
  /** Largest accepted tensor count. */
  maxTensors: number;
  /** Largest accepted total element count over all tensors (the model's parameter count). */
  maxElements: number;
}

/** First byte of every dense weights payload: ASCII 'W'. */
export const DENSE_WEIGHTS_MAGIC = 0x57;

/** Layout version this module writes and reads. */
export const DENSE_WEIGHTS_VERSION = 1;

/** Fixed header: magic (1) + version (1) + tensor count (4) = 6 bytes. */
export const DENSE_WEIGHTS_HEADER_BYTES = 6;

/** Largest tensor name, in UTF-8 bytes: the name length is a uint16. */
export const MAX_TENSOR_NAME_BYTES = 0xffff;

/** Largest rank: the rank is a uint8. */
export const MAX_TENSOR_RANK = 0xff;

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Zero bytes that bring `offset` to the next multiple of 4: (4 - offset mod 4) mod 4. */
function paddingTo4(offset: number): number {
  return (4 - (offset % 4)) % 4;
}

interface PlannedTensor {
  nameBytes: Uint8Array;
  tensor: DenseTensor;
}

/** Validates every tensor and returns the UTF-8 names and the exact encoded size. */
function planDenseWeights(weights: DenseWeights): { planned: PlannedTensor[]; size: number } {
  const seen = new Set<string>();
  const planned: PlannedTensor[] = [];
  let size = DENSE_WEIGHTS_HEADER_BYTES;
  for (const tensor of weights.tensors) {
    const { name, shape, data } = tensor;
    if (name.length === 0) throw new CodecError('empty-name', 'tensor name ""');
    if (seen.has(name)) throw new CodecError('duplicate-name', JSON.stringify(name));
    seen.add(name);
    const nameBytes = encodeUtf8(name);
    if (nameBytes.length > MAX_TENSOR_NAME_BYTES) {
      throw new CodecError('name-too-long', `${nameBytes.length} bytes`);
    }
    if (shape.length > MAX_TENSOR_RANK) {
      throw new CodecError('invalid-shape', `${name}: rank ${shape.length}`);
    }
    let product = 1;
    for (const dim of shape) {
      if (!Number.isInteger(dim) || dim < 0 || dim > MAX_UINT32) {
        throw new CodecError('invalid-shape', `${name}: dimension ${dim}`);
      }
      product *= dim;
    }
    if (product !== data.length) {
      throw new CodecError(
        'shape-mismatch',
        `${name}: shape [${shape.join(', ')}] holds ${product}, data ${data.length}`,
      );
    }
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        throw new CodecError('non-finite', `${name}[${i}] = ${data[i]}`);
      }
    }
    size += 2 + nameBytes.length + 1 + 4 * shape.length;
    size += paddingTo4(size) + 4 * data.length;
    planned.push({ nameBytes, tensor });
  }
  return { planned, size };
}

/**
 * Exact encoded size of `weights`, by the layout of {@link encodeDenseWeights}:
 * 6 + sum over tensors of (2 + nameBytes + 1 + 4 * rank + padding to 4 + 4 * elements).
 * Validates like the encoder (and throws the same errors).
 */
export function encodedDenseWeightsSize(weights: DenseWeights): number {
  return planDenseWeights(weights).size;
}

/**
 * Encodes dense model weights. All integers little-endian; byte by byte:
 *
 * | offset | size | field                                                  |
 * |--------|------|--------------------------------------------------------|
 * | 0      | 1    | magic 0x57 ('W')                                       |
 * | 1      | 1    | version, 1                                             |
 * | 2      | 4    | tensor count T, uint32                                 |
 * | then, T times:                                                         |
 * |        | 2    | name byte length L, uint16, 1..65535                   |
 * |        | L    | name, UTF-8                                            |
 * |        | 1    | rank R, uint8                                          |
 * |        | 4R   | dimensions, uint32 each, outermost first               |
 * |        | 0..3 | zero bytes, so the data starts at a multiple of 4 from byte 0 |
 * |        | 4N   | data, N = product of dimensions (1 when R = 0), binary32, row-major |
 *
 * The padding lets a decoder view the data in place as a Float32Array when the input sits
 * at a 4-aligned `byteOffset` on a little-endian host (every current browser and Node).
 *
 * @returns a fresh Uint8Array with `byteOffset` 0 spanning its whole buffer.
 * @throws CodecError `empty-name`, `duplicate-name`, `bad-utf8` (lone surrogate),
 *   `name-too-long`, `invalid-shape`, `shape-mismatch`, `non-finite`.
 */
export function encodeDenseWeights(weights: DenseWeights): Uint8Array {
  const { planned, size } = planDenseWeights(weights);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = DENSE_WEIGHTS_MAGIC;
  out[1] = DENSE_WEIGHTS_VERSION;
  view.setUint32(2, planned.length, true);
  let offset = DENSE_WEIGHTS_HEADER_BYTES;
  for (const { nameBytes, tensor } of planned) {
    view.setUint16(offset, nameBytes.length, true);
    out.set(nameBytes, offset + 2);
    offset += 2 + nameBytes.length;
    out[offset++] = tensor.shape.length;
    for (const dim of tensor.shape) {
      view.setUint32(offset, dim, true);
      offset += 4;
    }
    offset += paddingTo4(offset);
    const { data } = tensor;
    if (HOST_IS_LITTLE_ENDIAN) {
      new Float32Array(out.buffer, offset, data.length).set(data);
    } else {
      for (let i = 0; i < data.length; i++) view.setFloat32(offset + 4 * i, data[i], true);
    }
    offset += 4 * data.length;
  }
  return out;
}

/**
 * Element count of `shape` (the product of its dimensions), or `too-many-elements` as soon
 * as it exceeds `budget`. Stops early so 255 huge dimensions never overflow 2^53; a zero
 * dimension anywhere makes the count 0 regardless of the others.
 */
function elementCountWithin(shape: number[], budget: number, name: string, at: number): number {
  if (shape.includes(0)) return 0;
  let product = 1;
  for (const dim of shape) {
    product *= dim;
    if (product > budget) {
      throw new CodecError(
        'too-many-elements',
        `${name}: shape [${shape.join(', ')}] exceeds the ${budget} elements left`,
        at,
      );
    }
  }
  return product;
}

function checkLimit(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new CodecError('invalid-argument', `${name} = ${value}`);
  }
}

/**
 * Decodes and fully validates dense weights from untrusted bytes (layout: see
 * {@link encodeDenseWeights}). Checks: magic, version, T <= maxTensors; per tensor: name
 * length >= 1, name is well-formed UTF-8 and not seen before, the running element total
 * stays <= maxElements, padding bytes are zero, the data bytes exist (BEFORE allocating),
 * every value is finite; and no bytes follow the last tensor.
 *
 * Zero copy: when `bytes.byteOffset` is a multiple of 4 and the host is little-endian, each
 * `data` is a view into `bytes.buffer` (no copy; it keeps that buffer alive and sees later
 * writes to it). Otherwise `data` is a fresh copy.
 *
 * @throws CodecError `truncated`, `trailing-bytes`, `bad-magic`, `unsupported-version`,
 *   `too-many-tensors`, `empty-name`, `bad-utf8`, `duplicate-name`, `too-many-elements`,
 *   `bad-padding`, `non-finite`, `invalid-argument` (malformed limits); never a partial result.
 */
export function decodeDenseWeights(bytes: Uint8Array, limits: DenseDecodeLimits): DenseWeights {
  checkLimit('maxTensors', limits.maxTensors);
  checkLimit('maxElements', limits.maxElements);

  const reader = new ByteReader(bytes);
  const magic = reader.u8('magic');
  if (magic !== DENSE_WEIGHTS_MAGIC) {
    throw new CodecError('bad-magic', `byte 0x${magic.toString(16)}`, 0);
  }
  const version = reader.u8('version');
  if (version !== DENSE_WEIGHTS_VERSION) {
    throw new CodecError('unsupported-version', `version ${version}`, 1);
  }
  const tensorCount = reader.u32('tensor count');
  if (tensorCount > limits.maxTensors) {
    throw new CodecError('too-many-tensors', `${tensorCount} > ${limits.maxTensors}`, 2);
  }

  const tensors: DenseTensor[] = [];
  const seen = new Set<string>();
  let totalElements = 0;
  for (let t = 0; t < tensorCount; t++) {
    const nameAt = reader.offset;
    const nameLength = reader.u16('name length');
    if (nameLength === 0) throw new CodecError('empty-name', `tensor ${t}`, nameAt);
    const name = decodeUtf8(reader.slice(nameLength, 'name'), nameAt + 2);
    if (seen.has(name)) throw new CodecError('duplicate-name', JSON.stringify(name), nameAt);
    seen.add(name);

    const shapeAt = reader.offset;
    const rank = reader.u8('rank');
    reader.require(4 * rank, `${rank} dimensions`);
    const shape: number[] = [];
    for (let d = 0; d < rank; d++) shape.push(reader.u32('dimension'));
    const elements = elementCountWithin(shape, limits.maxElements - totalElements, name, shapeAt);
    totalElements += elements;

    for (let pad = paddingTo4(reader.offset); pad > 0; pad--) {
      const at = reader.offset;
      const byte = reader.u8('padding');
      if (byte !== 0) throw new CodecError('bad-padding', `byte 0x${byte.toString(16)}`, at);
    }
    tensors.push({ name, shape, data: readFiniteFloat32s(reader, elements, name) });
  }
  if (reader.remaining > 0) {
    throw new CodecError(
      'trailing-bytes',
      `${reader.remaining} bytes after the last tensor`,
      reader.offset,
    );
  }
  return { tensors };
}

/**
 * Reads `count` little-endian binary32 values at the (4-aligned) cursor and rejects any
 * non-finite one. Views the input in place when its absolute address is 4-aligned on a
 * little-endian host (a Float32Array needs both), copies through the DataView otherwise.
 */
function readFiniteFloat32s(reader: ByteReader, count: number, name: string): Float32Array {
  const start = reader.offset;
  reader.require(4 * count, `${name}: ${count} values`);
  const { bytes } = reader;
  const absolute = bytes.byteOffset + start;
  const inPlace = HOST_IS_LITTLE_ENDIAN && absolute % 4 === 0;
  const data = inPlace ? new Float32Array(bytes.buffer, absolute, count) : new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const value = inPlace ? data[i] : reader.f32('value');
    if (!Number.isFinite(value)) {
      throw new CodecError('non-finite', `${name}[${i}] = ${value}`, start + 4 * i);
    }
    if (!inPlace) data[i] = value;
  }
  reader.offset = start + 4 * count;
  return data;
}
