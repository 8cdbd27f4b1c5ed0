import type { DatasetName, ModelSpec } from '@vtrain/protocol';

/** Main thread -> evaluation thread. */
export interface EvaluationRequest {
  readonly id: number;
  /** Models are cached per run: the architecture of a run never changes. */
  readonly runId: string;
  readonly model: ModelSpec;
  readonly dataset: DatasetName;
  readonly seed: number;
  /** A copy of the global weights, transferred (not shared) to the thread. */
  readonly weights: Float32Array;
  /** Evaluate on the first `limit` held-out examples; all when absent. */
  readonly limit?: number;
}

/** Evaluation thread -> main thread. */
export type EvaluationReply =
  | {
      readonly id: number;
      readonly ok: true;
      readonly loss: number;
      readonly accuracy: number;
      readonly examples: number;
    }
  | { readonly id: number; readonly ok: false; readonly message: string };
