import { createHash } from 'node:crypto';
import type { OptimizerKind, OptimizerState } from '@vtrain/optimizer';
import { CodecError, decodeDenseWeights, encodeDenseWeights } from '@vtrain/protocol';
import { CheckpointError } from './checkpoint-error.js';

/** Everything needed to resume a run exactly where it was saved. */
export interface Checkpoint {
  /** The global model's version (applied-update counter). */
  version: number;
  /** Seconds of training so far. */
  elapsedSeconds: number;
  /** Milliseconds since the Unix epoch when the checkpoint was taken. */
  savedAt: number;
  /** The flat global weights, length P. */
  weights: Float32Array;
  /** The server optimizer's state; every buffer has length P. */
  optimizer: OptimizerState;
  /** The phase schedule's state: any JSON value (finite numbers only). */
  schedule: unknown;
  /** Anything else the run needs back (counters etc.): any JSON value (finite numbers only). */
  extra: unknown;
}

/** ASCII 'VTCK', the first four bytes of every checkpoint file. */
export const CHECKPOINT_MAGIC = Uint8Array.of(0x56, 0x54, 0x43, 0x4b);

/** Layout version this module writes and reads. */
export const CHECKPOINT_FORMAT_VERSION = 1;

/** Magic (4) + format version (4) + header length (4). */
const PREFIX_BYTES = 12;

/** SHA-256 digest length. */
const HASH_BYTES = 32;

/** Longest accepted JSON header: far above any schedule state, far below a memory problem. */
const MAX_HEADER_BYTES = 16 * 1024 * 1024;

/**
 * Longest JSON header written, a sixteenth of what is read back: state that grew past it
 * (a schedule remembering every identity ever seen) is refused at write time, while the
 * previous checkpoint is intact, instead of being written and then refused by every start.
 * The run's engine keeps its per-identity state far below it (some 200 KB at most).
 */
export const MAX_WRITTEN_HEADER_BYTES = 1024 * 1024;

/** Tensor name of the weights inside the dense blob; optimizer buffers are `optimizer/<name>`. */
const WEIGHTS_TENSOR = 'weights';
const OPTIMIZER_TENSOR_PREFIX = 'optimizer/';

const OPTIMIZER_KINDS: Record<OptimizerKind, true> = {
  sgd: true,
  momentum: true,
  nesterov: true,
  adam: true,
};

/** The JSON header: every scalar of the checkpoint and the names of the tensors that follow. */
interface CheckpointHeader {
  version: number;
  elapsedSeconds: number;
  savedAt: number;
  parameterCount: number;
  optimizer: { kind: OptimizerKind; step: number; buffers: string[] };
  schedule: unknown;
  extra: unknown;
}

/**
 * Encodes a checkpoint. All integers little-endian; byte by byte:
 *
 * | offset     | size | field                                                           |
 * |------------|------|-----------------------------------------------------------------|
 * | 0          | 4    | magic, ASCII 'VTCK'                                             |
 * | 4          | 4    | format version, uint32, 1                                       |
 * | 8          | 4    | header length H, uint32                                         |
 * | 12         | H    | JSON header, UTF-8, right-padded with spaces so 12 + H is a multiple of 4 |
 * | 12 + H     | D    | dense weights blob of `@vtrain/protocol` (`encodeDenseWeights`): tensor `weights` [P], then `optimizer/<name>` [P] per optimizer buffer, in header order |
 * | 12 + H + D | 32   | SHA-256 of bytes [0, 12 + H + D)                                |
 *
 * The header is `{ version, elapsedSeconds, savedAt, parameterCount: P, optimizer: { kind,
 * step, buffers: [names] }, schedule, extra }`. Padding the header keeps the blob 4-aligned,
 * so a reader can view each tensor in place. The trailing hash makes any truncation or bit
 * flip detectable before a single field is trusted.
 *
 * @throws {@link CheckpointError} `invalid-checkpoint` for a bad scalar, an optimizer buffer
 *   whose length is not P, non-finite weights or buffers, a header over
 *   {@link MAX_WRITTEN_HEADER_BYTES}, or a schedule / extra that JSON
 *   cannot carry exactly (a non-finite number, a bigint, a cycle).
 */
export function encodeCheckpoint(checkpoint: Checkpoint): Uint8Array {
  const parts = encodeCheckpointParts(checkpoint);
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * {@link encodeCheckpoint} as consecutive pieces (prefix and header, dense blob, hash) whose
 * concatenation is the file: a writer saves one copy of the largest piece and its memory.
 *
 * @throws {@link CheckpointError} as {@link encodeCheckpoint}.
 */
export function encodeCheckpointParts(checkpoint: Checkpoint): readonly Uint8Array[] {
  const { weights, optimizer } = checkpoint;
  checkScalars(checkpoint);
  const parameterCount = weights.length;
  const bufferNames = Object.keys(optimizer.buffers);
  const tensors = [{ name: WEIGHTS_TENSOR, shape: [parameterCount], data: weights }];
  for (const name of bufferNames) {
    const data = optimizer.buffers[name];
    if (!(data instanceof Float32Array) || data.length !== parameterCount) {
      throw new CheckpointError(
        'invalid-checkpoint',
        `optimizer buffer ${JSON.stringify(name)} must be a Float32Array of length ${parameterCount}`,
      );
    }
    tensors.push({ name: OPTIMIZER_TENSOR_PREFIX + name, shape: [parameterCount], data });
  }
  const header: CheckpointHeader = {
    version: checkpoint.version,
    elapsedSeconds: checkpoint.elapsedSeconds,
    savedAt: checkpoint.savedAt,
    parameterCount,
    optimizer: { kind: optimizer.kind, step: optimizer.step, buffers: bufferNames },
    schedule: checkpoint.schedule,
    extra: checkpoint.extra,
  };
  const headerBytes = paddedHeader(header);
  if (headerBytes.length > MAX_WRITTEN_HEADER_BYTES) {
    throw new CheckpointError(
      'invalid-checkpoint',
      `header of ${headerBytes.length} bytes > ${MAX_WRITTEN_HEADER_BYTES}: the schedule or counters grew without bound`,
    );
  }
  let blob: Uint8Array;
  try {
    blob = encodeDenseWeights({ tensors });
  } catch (error) {
    if (error instanceof CodecError) {
      throw new CheckpointError('invalid-checkpoint', error.message, { cause: error });
    }
    throw error;
  }

  const head = new Uint8Array(PREFIX_BYTES + headerBytes.length);
  const view = new DataView(head.buffer);
  head.set(CHECKPOINT_MAGIC, 0);
  view.setUint32(4, CHECKPOINT_FORMAT_VERSION, true);
  view.setUint32(8, headerBytes.length, true);
  head.set(headerBytes, PREFIX_BYTES);
  const hash = new Uint8Array(createHash('sha256').update(head).update(blob).digest());
  return [head, blob, hash];
}

/**
 * Decodes and verifies a checkpoint written by {@link encodeCheckpoint}, trusting nothing:
 * magic, format version, the SHA-256 trailer, the header length, every header field, then
 * the dense blob with limits taken from the header (1 + buffers tensors of P elements each)
 * and the exact tensor names and shapes the header announces.
 *
 * The returned arrays view `bytes` in place when its offset allows it (see
 * `decodeDenseWeights`): do not reuse `bytes` afterwards.
 *
 * @throws {@link CheckpointError} `truncated`, `bad-magic`, `unsupported-version`,
 *   `hash-mismatch`, `bad-header`, `bad-tensors`; never a partial result.
 */
export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  if (bytes.length < PREFIX_BYTES + HASH_BYTES) {
    throw new CheckpointError('truncated', `${bytes.length} bytes`);
  }
  for (let i = 0; i < CHECKPOINT_MAGIC.length; i++) {
    if (bytes[i] !== CHECKPOINT_MAGIC[i]) {
      throw new CheckpointError('bad-magic', `first bytes ${hex(bytes.subarray(0, 4))}`);
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const formatVersion = view.getUint32(4, true);
  if (formatVersion !== CHECKPOINT_FORMAT_VERSION) {
    throw new CheckpointError('unsupported-version', `format version ${formatVersion}`);
  }
  const bodyLength = bytes.length - HASH_BYTES;
  const expected = sha256(bytes.subarray(0, bodyLength));
  const stored = bytes.subarray(bodyLength);
  if (!expected.every((byte, i) => byte === stored[i])) {
    throw new CheckpointError(
      'hash-mismatch',
      `${bytes.length} bytes, stored ${hex(stored.subarray(0, 8))}..., computed ${hex(expected.subarray(0, 8))}...`,
    );
  }

  const headerLength = view.getUint32(8, true);
  if (headerLength > MAX_HEADER_BYTES || PREFIX_BYTES + headerLength > bodyLength) {
    throw new CheckpointError('truncated', `header of ${headerLength} bytes in ${bytes.length}`);
  }
  const header = parseHeader(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength));
  const { parameterCount } = header;
  const buffers = header.optimizer.buffers;

  let decoded;
  try {
    decoded = decodeDenseWeights(bytes.subarray(PREFIX_BYTES + headerLength, bodyLength), {
      maxTensors: 1 + buffers.length,
      maxElements: (1 + buffers.length) * parameterCount,
    });
  } catch (error) {
    if (error instanceof CodecError) {
      throw new CheckpointError('bad-tensors', error.message, { cause: error });
    }
    throw error;
  }
  const expectedNames = [WEIGHTS_TENSOR, ...buffers.map((name) => OPTIMIZER_TENSOR_PREFIX + name)];
  const names = decoded.tensors.map((tensor) => tensor.name);
  if (names.length !== expectedNames.length || names.some((n, i) => n !== expectedNames[i])) {
    throw new CheckpointError(
      'bad-tensors',
      `tensors [${names.join(', ')}], header names [${expectedNames.join(', ')}]`,
    );
  }
  for (const tensor of decoded.tensors) {
    if (tensor.shape.length !== 1 || tensor.shape[0] !== parameterCount) {
      throw new CheckpointError(
        'bad-tensors',
        `${tensor.name} has shape [${tensor.shape.join(', ')}], expected [${parameterCount}]`,
      );
    }
  }

  const [weights, ...optimizerTensors] = decoded.tensors;
  // fromEntries defines own properties, so even a buffer named "__proto__" stays a buffer.
  const optimizerBuffers = Object.fromEntries(
    optimizerTensors.map((tensor) => [
      tensor.name.slice(OPTIMIZER_TENSOR_PREFIX.length),
      tensor.data,
    ]),
  );
  return {
    version: header.version,
    elapsedSeconds: header.elapsedSeconds,
    savedAt: header.savedAt,
    weights: weights?.data ?? new Float32Array(0),
    optimizer: {
      kind: header.optimizer.kind,
      step: header.optimizer.step,
      buffers: optimizerBuffers,
    },
    schedule: header.schedule,
    extra: header.extra,
  };
}

function checkScalars(checkpoint: Checkpoint): void {
  const { version, elapsedSeconds, savedAt, optimizer } = checkpoint;
  const problems: string[] = [];
  if (!(checkpoint.weights instanceof Float32Array)) problems.push('weights is not a Float32Array');
  if (!Number.isSafeInteger(version) || version < 0) problems.push(`version ${version}`);
  if (!Number.isFinite(elapsedSeconds) || elapsedSeconds < 0) {
    problems.push(`elapsedSeconds ${elapsedSeconds}`);
  }
  if (!Number.isFinite(savedAt)) problems.push(`savedAt ${savedAt}`);
  if (!Object.hasOwn(OPTIMIZER_KINDS, optimizer.kind))
    problems.push(`optimizer kind ${optimizer.kind}`);
  if (!Number.isSafeInteger(optimizer.step) || optimizer.step < 0) {
    problems.push(`optimizer step ${optimizer.step}`);
  }
  if (problems.length > 0) throw new CheckpointError('invalid-checkpoint', problems.join('; '));
}

/** The header as UTF-8 JSON plus 0 to 3 spaces (JSON whitespace) so 12 + H = 0 mod 4. */
function paddedHeader(header: CheckpointHeader): Uint8Array {
  let json: string;
  try {
    json = JSON.stringify(header, (key, value: unknown) => {
      // JSON writes NaN and Infinity as null: the restored schedule would differ silently.
      if (typeof value === 'number' && !Number.isFinite(value)) {
        throw new CheckpointError('invalid-checkpoint', `${key} = ${value} is not JSON`);
      }
      return value;
    });
  } catch (error) {
    if (error instanceof CheckpointError) throw error;
    throw new CheckpointError(
      'invalid-checkpoint',
      `header not serialisable: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  const encoded = new TextEncoder().encode(json);
  const padding = (4 - ((PREFIX_BYTES + encoded.length) % 4)) % 4;
  const out = new Uint8Array(encoded.length + padding).fill(0x20);
  out.set(encoded);
  return out;
}

function parseHeader(bytes: Uint8Array): CheckpointHeader {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new CheckpointError(
      'bad-header',
      error instanceof Error ? error.message : String(error),
      { cause: error },
    );
  }
  if (!isRecord(parsed)) throw new CheckpointError('bad-header', 'not a JSON object');
  const { version, elapsedSeconds, savedAt, parameterCount, optimizer } = parsed;
  const problems: string[] = [];
  if (!isCount(version)) problems.push(`version ${String(version)}`);
  if (typeof elapsedSeconds !== 'number' || elapsedSeconds < 0) {
    problems.push(`elapsedSeconds ${String(elapsedSeconds)}`);
  }
  if (typeof savedAt !== 'number') problems.push(`savedAt ${String(savedAt)}`);
  if (!isCount(parameterCount)) problems.push(`parameterCount ${String(parameterCount)}`);
  if (!isRecord(optimizer)) {
    problems.push('optimizer missing');
  } else {
    const { kind, step, buffers } = optimizer;
    if (typeof kind !== 'string' || !Object.hasOwn(OPTIMIZER_KINDS, kind)) {
      problems.push(`optimizer kind ${String(kind)}`);
    }
    if (!isCount(step)) problems.push(`optimizer step ${String(step)}`);
    if (!Array.isArray(buffers) || !buffers.every((name) => typeof name === 'string')) {
      problems.push('optimizer buffers is not a list of names');
    }
  }
  if (problems.length > 0) throw new CheckpointError('bad-header', problems.join('; '));
  return parsed as unknown as CheckpointHeader;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
