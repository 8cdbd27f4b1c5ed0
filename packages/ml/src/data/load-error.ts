import { CodedError } from '../coded-error.js';

/** Reasons a {@link DatasetLoadError} is thrown while reading packaged data set files. */
export type DatasetLoadErrorCode =
  | 'bad-magic'
  | 'truncated'
  | 'trailing-bytes'
  | 'shape-mismatch'
  | 'count-mismatch'
  | 'bad-json'
  | 'bad-row'
  | 'pixel-out-of-range'
  | 'label-out-of-range'
  | 'unreadable';

/** Thrown when a data set file is missing, corrupt or not in the expected layout. */
export class DatasetLoadError extends CodedError<DatasetLoadErrorCode> {}
