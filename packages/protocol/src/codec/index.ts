export { CODEC_ERROR_CODES, CodecError } from './codec-error.js';
export type { CodecErrorCode } from './codec-error.js';
export {
  SPARSE_UPDATE_HEADER_BYTES,
  SPARSE_UPDATE_MAGIC,
  SPARSE_UPDATE_VERSION,
  SPARSE_VALUE_FORMAT_CODES,
  decodeSparseUpdate,
  encodeSparseUpdate,
  encodedSparseUpdateSize,
  maxEncodedSparseUpdateSize,
  roundToFloat16,
  sparseBytesPerValue,
} from './sparse-update.js';
export type {
  SparseDecodeLimits,
  SparseEncodeOptions,
  SparseValueFormat,
  SparseVector,
} from './sparse-update.js';
export {
  DENSE_WEIGHTS_HEADER_BYTES,
  DENSE_WEIGHTS_MAGIC,
  DENSE_WEIGHTS_VERSION,
  MAX_TENSOR_NAME_BYTES,
  MAX_TENSOR_RANK,
  decodeDenseWeights,
  encodeDenseWeights,
  encodedDenseWeightsSize,
} from './dense-weights.js';
export type { DenseDecodeLimits, DenseTensor, DenseWeights } from './dense-weights.js';
export { MAX_UINT32, MAX_VARINT_UINT32_BYTES, varintByteLength } from './varint.js';
