import type { SparseVector } from '../sparse-vector.js';

/** The optimizer rules this package implements. */
export type OptimizerKind = 'sgd' | 'momentum' | 'nesterov' | 'adam';

/**
 * A serialisable snapshot of an optimizer, for coordinator checkpoints:
 * the rule, the number of steps taken (Adam's bias correction needs it) and
 * the per-parameter buffers by name (`momentum` for momentum and Nesterov;
 * `firstMoment` and `secondMoment` for Adam; none for SGD).
 */
export interface OptimizerState {
  /** Which rule produced the snapshot; restore checks it. */
  readonly kind: OptimizerKind;
  /** Steps taken so far, t. */
  readonly step: number;
  /** Named per-parameter buffers of length P (copies, safe to keep). */
  readonly buffers: Readonly<Record<string, Float32Array>>;
}

/**
 * An optimizer that owns its state and updates a flat float32 weight vector
 * in place. Per-element arithmetic is binary64, rounded once when stored.
 */
export interface Optimizer {
  /** The rule. */
  readonly kind: OptimizerKind;
  /** Dense dimension P of weights, updates and buffers. */
  readonly parameterCount: number;
  /** Steps taken so far, t. */
  readonly stepCount: number;
  /**
   * Applies one step. `update` is the direction that SGD would subtract:
   * a gradient (worker side) or a pseudo-gradient such as the averaged,
   * already-scaled worker updates (server side). Everything is checked before
   * `weights` or the state change.
   *
   * @param weights - the model, length P, modified in place.
   * @param update - dense or sparse, length P, finite.
   * @throws {@link OptimizerError} `length-mismatch`, `non-finite` or `invalid-update`.
   */
  step(weights: Float32Array, update: Float32Array | SparseVector): void;
  /** @returns a deep copy of the state, for a checkpoint. */
  state(): OptimizerState;
  /**
   * Replaces the state with a checkpoint taken from an optimizer of the same kind and size.
   *
   * @param state - a snapshot from {@link Optimizer.state}; copied, not retained.
   * @throws {@link OptimizerError} `invalid-state` if kind, step, buffer names, lengths or values do not fit.
   */
  restore(state: OptimizerState): void;
}
