import { CodedError } from './coded-error.js';

/**
 * A sparse view of a dense vector of dimension `length` (the parameter count P).
 *
 * Same shape as the wire codec in `@vtrain/protocol`: strictly increasing
 * `indices` into [0, length) and the `values` at those positions. Positions not
 * listed are zero. Explicit zeros in `values` are allowed.
 */
export interface SparseVector {
  /** Dense dimension P. */
  readonly length: number;
  /** Positions, strictly increasing, each in [0, length). */
  readonly indices: Uint32Array;
  /** `values[j]` is the entry at `indices[j]`; same length as `indices`. */
  readonly values: Float32Array;
}

/** Reasons a {@link InvalidSparseVectorError} is thrown. */
export type InvalidSparseVectorErrorCode =
  'unsorted-indices' | 'index-out-of-range' | 'length-mismatch' | 'non-finite' | 'invalid-length';

/** Thrown when a {@link SparseVector} (or an argument used with one) breaks its invariants. */
export class InvalidSparseVectorError extends CodedError<InvalidSparseVectorErrorCode> {
  /**
   * @param code - the reason, see {@link InvalidSparseVectorErrorCode}.
   * @param message - names the offending value.
   */
  public constructor(code: InvalidSparseVectorErrorCode, message: string) {
    super(code, message);
  }
}

/**
 * Checks every invariant of a {@link SparseVector} in one O(nnz) pass.
 *
 * @param vector - the vector to check.
 * @throws {@link InvalidSparseVectorError}:
 *   `invalid-length` if `length` is not a non-negative integer below 2^32;
 *   `length-mismatch` if `indices` and `values` differ in length;
 *   `unsorted-indices` if indices are not strictly increasing (duplicates included);
 *   `index-out-of-range` if an index is >= `length`;
 *   `non-finite` if a value is NaN or infinite.
 */
export function validateSparseVector(vector: SparseVector): void {
  const { length, indices, values } = vector;
  if (!Number.isInteger(length) || length < 0 || length > 0x100000000) {
    throw new InvalidSparseVectorError(
      'invalid-length',
      `dense length must be an integer in [0, 2^32], got ${length}`,
    );
  }
  if (indices.length !== values.length) {
    throw new InvalidSparseVectorError(
      'length-mismatch',
      `indices has ${indices.length} entries but values has ${values.length}`,
    );
  }
  let previous = -1;
  for (let j = 0; j < indices.length; j++) {
    const index = indices[j];
    if (index <= previous) {
      throw new InvalidSparseVectorError(
        'unsorted-indices',
        `indices[${j}] = ${index} does not exceed indices[${j - 1}] = ${previous}`,
      );
    }
    if (index >= length) {
      throw new InvalidSparseVectorError(
        'index-out-of-range',
        `indices[${j}] = ${index} is outside [0, ${length})`,
      );
    }
    if (!Number.isFinite(values[j])) {
      throw new InvalidSparseVectorError(
        'non-finite',
        `values[${j}] (index ${index}) is ${values[j]}`,
      );
    }
    previous = index;
  }
}

function requireSameDimension(dense: Float32Array, sparse: SparseVector): void {
  if (dense.length !== sparse.length) {
    throw new InvalidSparseVectorError(
      'length-mismatch',
      `dense array has ${dense.length} entries but the sparse vector has dimension ${sparse.length}`,
    );
  }
}

function requireFiniteFactor(name: string, factor: number): void {
  if (!Number.isFinite(factor)) {
    throw new InvalidSparseVectorError('non-finite', `${name} must be finite, got ${factor}`);
  }
}

/**
 * Scatter-add: `dense[indices[j]] += scale * values[j]` for every stored entry,
 * computed in binary64 and rounded once to float32 per entry. O(nnz). Like any
 * float32 arithmetic, a sum beyond ±3.4e38 becomes ±Infinity in `dense`.
 *
 * @param dense - accumulator of dimension `sparse.length`, modified in place.
 * @param sparse - the entries to add (validated first, so a bad vector leaves `dense` untouched).
 * @param scale - finite multiplier (default 1).
 * @throws {@link InvalidSparseVectorError} if `sparse` is invalid, the dimensions differ or `scale` is not finite.
 */
export function addSparseInto(dense: Float32Array, sparse: SparseVector, scale = 1): void {
  validateSparseVector(sparse);
  requireSameDimension(dense, sparse);
  requireFiniteFactor('scale', scale);
  const { indices, values } = sparse;
  for (let j = 0; j < indices.length; j++) {
    dense[indices[j]] += scale * values[j];
  }
}

/**
 * The dense Float32Array of dimension `length` with `values` at `indices` and zeros elsewhere.
 *
 * @param sparse - the vector to expand (validated first).
 * @returns a new array; the input is not retained.
 * @throws {@link InvalidSparseVectorError} if `sparse` is invalid.
 */
export function densify(sparse: SparseVector): Float32Array {
  validateSparseVector(sparse);
  const dense = new Float32Array(sparse.length);
  const { indices, values } = sparse;
  for (let j = 0; j < indices.length; j++) dense[indices[j]] = values[j];
  return dense;
}

/**
 * Euclidean norm `sqrt(sum_j values[j]^2)`, accumulated in binary64 (unstored
 * entries are zero and contribute nothing). O(nnz).
 *
 * @param sparse - the vector (validated first).
 * @returns the L2 norm as a binary64 number.
 * @throws {@link InvalidSparseVectorError} if `sparse` is invalid.
 */
export function sparseNorm(sparse: SparseVector): number {
  validateSparseVector(sparse);
  let sumOfSquares = 0;
  for (const value of sparse.values) sumOfSquares += value * value;
  return Math.sqrt(sumOfSquares);
}

/**
 * `factor * sparse`: same support, each value multiplied in binary64 and rounded to float32.
 *
 * @param sparse - the vector (validated first).
 * @param factor - finite multiplier.
 * @returns a new vector with its own copies of `indices` and `values`.
 * @throws {@link InvalidSparseVectorError} if `sparse` is invalid, `factor` is not finite or a product overflows float32.
 */
export function scaleSparse(sparse: SparseVector, factor: number): SparseVector {
  validateSparseVector(sparse);
  requireFiniteFactor('factor', factor);
  const values = new Float32Array(sparse.values.length);
  for (let j = 0; j < values.length; j++) {
    values[j] = factor * sparse.values[j];
    if (!Number.isFinite(values[j])) {
      throw new InvalidSparseVectorError(
        'non-finite',
        `${factor} * ${sparse.values[j]} overflows float32 at index ${sparse.indices[j]}`,
      );
    }
  }
  return { length: sparse.length, indices: sparse.indices.slice(), values };
}
