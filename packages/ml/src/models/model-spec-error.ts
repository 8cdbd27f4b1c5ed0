import { CodedError } from '../coded-error.js';

/** Every reason a model spec or topology is refused, with the reason each code carries. */
export const MODEL_SPEC_ERROR_CODES = {
  'invalid-spec': 'the zoo spec has a malformed field (hiddenUnits, filters)',
  'invalid-topology': 'the topology is not a tfjs layers modelTopology that tfjs can build',
  'unknown-layer': 'the topology names a layer class tfjs does not know',
  'input-shape': 'the model input does not take the data set examples',
  'output-shape': 'the model output is not one logit per class',
  'softmax-output': 'the last layer applies softmax; the loss expects raw logits',
  'too-many-parameters': 'the model has more parameters than the limit',
  'non-trainable-weights': 'the model has non-trainable weights, which the wire does not carry',
  'unsupported-layer-option':
    'a layer uses a regularizer or constraint, which training here ignores',
} as const;

/** The string discriminant of a {@link ModelSpecError}. */
export type ModelSpecErrorCode = keyof typeof MODEL_SPEC_ERROR_CODES;

/** Thrown when a model cannot be built from a spec, or a custom topology does not fit the run. */
export class ModelSpecError extends CodedError<ModelSpecErrorCode> {
  /**
   * @param code - which check failed.
   * @param detail - what exactly, appended to the code's standard reason.
   * @param options - the tfjs error as `cause`, when tfjs refused the topology.
   */
  constructor(code: ModelSpecErrorCode, detail: string, options?: ErrorOptions) {
    super(code, `${MODEL_SPEC_ERROR_CODES[code]}: ${detail}`, options);
  }
}
