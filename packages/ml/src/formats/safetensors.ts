import { CodedError } from '../coded-error.js';
/**
 * The safetensors format (github.com/huggingface/safetensors, "Format"), for the dtypes
 * vtrain reads and writes (F32, U8, I32, I64):
 *
 * - 8 bytes: N, unsigned 64-bit little-endian, the header's byte length;
 * - N bytes: UTF-8 JSON object starting with `{`, optionally right-padded with spaces:
 *   `{ "<name>": { "dtype": "F32", "shape": [...], "data_offsets": [begin, end] }, ...,
 *   "__metadata__": { "<key>": "<string>" } }`;
 * - the rest: the byte buffer, tensors row-major little-endian, `data_offsets` relative to
 *   its start, covering it entirely with no gap and no overlap.
 *
 * Exports write F32 weights; uploaded data sets (`POST /api/datasets`) are read here too,
 * header first ({@link readSafetensorsHeaderLength}, {@link parseSafetensorsHeader}) so the
 * coordinator can check a file of hundreds of MB without holding it in memory.
 */

/** The element types this module knows, with their sizes in bytes. */
export const SAFETENSORS_DTYPE_BYTES = { F32: 4, U8: 1, I32: 4, I64: 8 } as const;
/** A safetensors dtype name this module reads and writes. */
export type SafetensorsDtype = keyof typeof SAFETENSORS_DTYPE_BYTES;

/** The typed array that holds a tensor of each dtype. */
export type SafetensorsData = Float32Array | Uint8Array | Int32Array | BigInt64Array;

/** One named float32 tensor, row-major. */
export interface SafetensorsTensor {
  name: string;
  /** Dimensions; [] is a scalar, a 0 dimension an empty tensor. */
  shape: number[];
  /** `data.length` equals the product of `shape` (1 for a scalar). */
  data: Float32Array;
}

/** A tensor to encode: its dtype follows its array (Float32Array is F32, Uint8Array U8...). */
export interface EncodableTensor {
  name: string;
  shape: number[];
  data: SafetensorsData;
}

/** A parsed safetensors file: tensors in byte-buffer order, and the metadata map. */
export interface ParsedSafetensors {
  tensors: SafetensorsTensor[];
  metadata: Record<string, string>;
}

/** One tensor of a checked header; offsets are relative to the byte buffer. */
export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

/** A checked header: entries sorted by offset, tiling the byte buffer exactly. */
export interface SafetensorsHeader {
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
}

/** Every way a safetensors file (or the input of the encoder) can be wrong. */
export const SAFETENSORS_ERROR_CODES = {
  truncated: 'fewer than 8 bytes, or the declared header runs past the end',
  'header-too-large': 'the header length exceeds the 100 MB the reference reader allows',
  'bad-header': 'the header is not UTF-8 JSON starting with "{" holding an object',
  'duplicate-key': 'a JSON object of the header repeats a key',
  'bad-entry': 'a tensor entry is not { dtype, shape, data_offsets } with integer fields',
  'unsupported-dtype': 'a tensor has a dtype the reader was not asked to accept',
  'bad-metadata': '__metadata__ is not an object of strings',
  'bad-offsets': 'data offsets overlap, leave a gap, or do not start at 0',
  'out-of-range': 'data offsets run past the end of the byte buffer',
  'trailing-bytes': 'the byte buffer continues past the last tensor',
  'shape-mismatch':
    'shape product * dtype size differs from the tensor byte span (or from data length)',
  'invalid-tensor': 'a tensor to encode has a bad or duplicate name or a bad shape',
} as const;

/** The string discriminant of a {@link SafetensorsError}. */
export type SafetensorsErrorCode = keyof typeof SAFETENSORS_ERROR_CODES;

/** The typed error of {@link encodeSafetensors} and {@link parseSafetensors}. */
export class SafetensorsError extends CodedError<SafetensorsErrorCode> {
  /**
   * @param code - which check failed
   * @param detail - the tensor, key or value involved, appended to the code's standard reason
   */
  constructor(code: SafetensorsErrorCode, detail: string) {
    super(code, `${code}: ${SAFETENSORS_ERROR_CODES[code]} (${detail})`);
  }
}

/** Largest header the reference implementation accepts (MAX_HEADER_SIZE, 100,000,000 bytes). */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Encodes tensors and string metadata as safetensors; a tensor's dtype follows its array
 * (Float32Array F32, Uint8Array U8, Int32Array I32, BigInt64Array I64). Tensors are laid out
 * in the given order, back to back from offset 0 (tensor i spans [sum of earlier byte sizes,
 * that + size(dtype) * elements)); the header lists `__metadata__` first, then the tensors in that order,
 * and is padded with spaces to a multiple of 8 bytes, so the byte buffer starts 8-aligned as
 * the reference writer does.
 *
 * @throws {@link SafetensorsError} `invalid-tensor` (empty, duplicate or `__metadata__` name,
 *   a dimension that is not a non-negative integer), `shape-mismatch`, `bad-metadata`.
 */
export function encodeSafetensors(
  tensors: readonly EncodableTensor[],
  metadata: Record<string, string>,
): Uint8Array {
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') {
      throw new SafetensorsError('bad-metadata', `${JSON.stringify(key)} is a ${typeof value}`);
    }
  }
  const seen = new Set<string>();
  // A Map keeps insertion order for every key, "__proto__" and integer-like names included.
  const entries = new Map<string, unknown>([[METADATA_KEY, metadata]]);
  let offset = 0;
  for (const { name, shape, data } of tensors) {
    if (name === '' || name === METADATA_KEY || seen.has(name)) {
      throw new SafetensorsError('invalid-tensor', `name ${JSON.stringify(name)}`);
    }
    seen.add(name);
    if (!shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) {
      throw new SafetensorsError('invalid-tensor', `${name}: shape [${shape.join(', ')}]`);
    }
    const elements = shape.reduce((product, dim) => product * dim, 1);
    if (elements !== data.length) {
      throw new SafetensorsError(
        'shape-mismatch',
        `${name}: shape [${shape.join(', ')}] holds ${elements}, data ${data.length}`,
      );
    }
    const dtype = dtypeOf(data);
    const end = offset + SAFETENSORS_DTYPE_BYTES[dtype] * elements;
    entries.set(name, { dtype, shape, data_offsets: [offset, end] });
    offset = end;
  }
  const json = `{${[...entries].map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`).join(',')}}`;
  const headerText = new TextEncoder().encode(json);
  const headerLength = headerText.length + ((8 - (headerText.length % 8)) % 8);

  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  out.fill(0x20, 8, 8 + headerLength);
  out.set(headerText, 8);
  let at = 8 + headerLength;
  for (const { data } of tensors) {
    if (HOST_IS_LITTLE_ENDIAN || data instanceof Uint8Array) {
      out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    } else {
      writeLittleEndian(view, at, data);
    }
    at += data.byteLength;
  }
  return out;
}

function dtypeOf(data: SafetensorsData): SafetensorsDtype {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Uint8Array) return 'U8';
  if (data instanceof Int32Array) return 'I32';
  return 'I64';
}

function writeLittleEndian(view: DataView, at: number, data: SafetensorsData): void {
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float32Array) view.setFloat32(at + 4 * i, data[i] ?? 0, true);
    else if (data instanceof Int32Array) view.setInt32(at + 4 * i, data[i] ?? 0, true);
    else if (data instanceof BigInt64Array) view.setBigInt64(at + 8 * i, data[i] ?? 0n, true);
  }
}

/**
 * Parses and fully validates a safetensors file of F32 tensors (an export), following the
 * format's rules and the reference reader's checks (see {@link readSafetensorsHeaderLength}
 * and {@link parseSafetensorsHeader}).
 *
 * The returned data are copies, independent of `bytes`.
 *
 * @throws {@link SafetensorsError} with the code of the first failed check; never a partial result.
 */
export function parseSafetensors(bytes: Uint8Array): ParsedSafetensors {
  const headerLength = readSafetensorsHeaderLength(bytes, bytes.length);
  const bufferStart = 8 + headerLength;
  const { entries, metadata } = parseSafetensorsHeader(
    bytes.subarray(8, bufferStart),
    bytes.length - bufferStart,
    ['F32'],
  );
  const tensors = entries.map(({ name, shape, begin, end }) => ({
    name,
    shape,
    data: readFloat32s(bytes, bufferStart + begin, (end - begin) / 4),
  }));
  return { tensors, metadata };
}

/**
 * N, the header length of a safetensors file of `fileLength` bytes whose first bytes are
 * `prefix` (8 or more): N <= 100 MB (the reference's MAX_HEADER_SIZE) and 8 + N <= fileLength.
 * The header is bytes [8, 8 + N), the byte buffer the rest.
 *
 * @throws {@link SafetensorsError} `truncated`, `header-too-large`.
 */
export function readSafetensorsHeaderLength(prefix: Uint8Array, fileLength: number): number {
  if (fileLength < 8 || prefix.length < 8) {
    throw new SafetensorsError('truncated', `${fileLength} bytes`);
  }
  const declared = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (declared > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) {
    throw new SafetensorsError('header-too-large', `${declared} bytes`);
  }
  const headerLength = Number(declared);
  if (8 + headerLength > fileLength) {
    throw new SafetensorsError('truncated', `header of ${headerLength} bytes in ${fileLength}`);
  }
  return headerLength;
}

/**
 * Parses and checks a header against the byte buffer's length, following the format's
 * rules and the reference reader's checks: well-formed UTF-8 JSON starting with `{`, an
 * object without repeated keys; every entry exactly `{ dtype, shape, data_offsets }` with a
 * dtype among `dtypes`, non-negative integer dimensions and offsets with begin <= end;
 * `__metadata__` absent, null or an object of strings; sorted by offsets, the tensors start
 * at 0, each begins where the previous ends (no overlap, no gap), the last ends at the end of
 * the buffer, and each spans exactly size(dtype) * (product of its shape) bytes.
 *
 * @param header - the N header bytes (file bytes [8, 8 + N)).
 * @param bufferLength - file length - 8 - N.
 * @param dtypes - the dtypes accepted; others are `unsupported-dtype`.
 * @throws {@link SafetensorsError} with the code of the first failed check.
 */
export function parseSafetensorsHeader(
  header: Uint8Array,
  bufferLength: number,
  dtypes: readonly SafetensorsDtype[],
): SafetensorsHeader {
  const json = parseHeaderJson(header);
  let metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [key, value] of Object.entries(json)) {
    if (key === METADATA_KEY) metadata = checkMetadata(value);
    else entries.push(checkEntry(key, value, dtypes));
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);

  let expectedBegin = 0;
  for (const entry of entries) {
    if (entry.begin !== expectedBegin) {
      throw new SafetensorsError(
        'bad-offsets',
        `${entry.name} begins at ${entry.begin}, the previous tensor ends at ${expectedBegin}`,
      );
    }
    if (entry.end > bufferLength) {
      throw new SafetensorsError(
        'out-of-range',
        `${entry.name} ends at ${entry.end}, the buffer holds ${bufferLength} bytes`,
      );
    }
    const span = entry.end - entry.begin;
    const size = SAFETENSORS_DTYPE_BYTES[entry.dtype];
    // Stop multiplying once past the span: 255 huge dimensions never overflow 2^53.
    let elements = 1;
    for (const dim of entry.shape) {
      elements *= dim;
      if (elements * size > span) break;
    }
    if (entry.shape.includes(0)) elements = 0;
    if (elements * size !== span) {
      throw new SafetensorsError(
        'shape-mismatch',
        `${entry.name}: shape [${entry.shape.join(', ')}] needs ${elements * size} bytes, offsets span ${span}`,
      );
    }
    expectedBegin = entry.end;
  }
  if (expectedBegin !== bufferLength) {
    throw new SafetensorsError(
      'trailing-bytes',
      `tensors end at ${expectedBegin}, the buffer holds ${bufferLength} bytes`,
    );
  }
  return { entries, metadata };
}

function parseHeaderJson(bytes: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new SafetensorsError('bad-header', 'not well-formed UTF-8');
  }
  if (!text.startsWith('{')) {
    throw new SafetensorsError('bad-header', `starts with ${JSON.stringify(text.slice(0, 8))}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SafetensorsError('bad-header', error instanceof Error ? error.message : 'bad JSON');
  }
  if (!isRecord(parsed)) throw new SafetensorsError('bad-header', 'not a JSON object');
  const duplicate = firstDuplicateKey(text);
  if (duplicate !== undefined) {
    throw new SafetensorsError('duplicate-key', JSON.stringify(duplicate));
  }
  return parsed;
}

function checkEntry(
  name: string,
  value: unknown,
  dtypes: readonly SafetensorsDtype[],
): SafetensorsEntry {
  if (!isRecord(value)) throw new SafetensorsError('bad-entry', `${name} is not an object`);
  const keys = Object.keys(value).sort().join(',');
  if (keys !== 'data_offsets,dtype,shape') {
    throw new SafetensorsError('bad-entry', `${name} has keys {${keys}}`);
  }
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string') throw new SafetensorsError('bad-entry', `${name}: dtype`);
  if (!(dtypes as readonly string[]).includes(dtype)) {
    throw new SafetensorsError(
      'unsupported-dtype',
      `${name}: ${dtype}, expected ${dtypes.join(' or ')}`,
    );
  }
  if (!Array.isArray(shape) || !shape.every(isNaturalNumber)) {
    throw new SafetensorsError('bad-entry', `${name}: shape ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNaturalNumber)) {
    throw new SafetensorsError('bad-entry', `${name}: data_offsets ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw new SafetensorsError('bad-offsets', `${name}: [${begin}, ${end}]`);
  return { name, dtype: dtype as SafetensorsDtype, shape, begin, end };
}

function checkMetadata(value: unknown): Record<string, string> {
  // The reference reads __metadata__ as Option<HashMap<String, String>>: null means none.
  if (value === null) return {};
  if (!isRecord(value)) throw new SafetensorsError('bad-metadata', 'not an object');
  const metadata: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') {
      throw new SafetensorsError('bad-metadata', `${JSON.stringify(key)} is not a string`);
    }
    Object.defineProperty(metadata, key, {
      value: item,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return metadata;
}

/** Copies `count` little-endian float32 values starting at byte `start` of `bytes`. */
function readFloat32s(bytes: Uint8Array, start: number, count: number): Float32Array {
  const copy = bytes.slice(start, start + 4 * count);
  if (HOST_IS_LITTLE_ENDIAN) return new Float32Array(copy.buffer, 0, count);
  const view = new DataView(copy.buffer);
  return Float32Array.from({ length: count }, (_, i) => view.getFloat32(4 * i, true));
}

/**
 * The first key repeated within one object of a JSON text, or undefined. JSON.parse keeps
 * the last of repeated keys silently; the format forbids them, as a file read differently
 * by two readers is the kind of ambiguity it exists to prevent. `text` is valid JSON (it
 * parsed), so a small scanner suffices: inside an object, a string after `{` or `,` is a key.
 */
function firstDuplicateKey(text: string): string | undefined {
  const stack: { keys: Set<string> | undefined; expectKey: boolean }[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    const top = stack.at(-1);
    if (char === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (top?.keys !== undefined && top.expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(key)) return key;
        top.keys.add(key);
        top.expectKey = false;
      }
      i = end;
    } else if (char === '{') {
      stack.push({ keys: new Set(), expectKey: true });
    } else if (char === '[') {
      stack.push({ keys: undefined, expectKey: false });
    } else if (char === '}' || char === ']') {
      stack.pop();
    } else if (char === ',' && top?.keys !== undefined) {
      top.expectKey = true;
    }
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNaturalNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
