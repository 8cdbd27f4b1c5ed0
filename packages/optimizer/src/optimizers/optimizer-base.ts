import type { SparseVector } from '../sparse-vector.js';
import type { Optimizer, OptimizerKind, OptimizerState } from './optimizer.js';
import { OptimizerError } from './optimizer-error.js';
import { checkStepArguments } from './step-arguments.js';

/**
 * Shared plumbing of the optimizers: argument checks before any write, the
 * step counter, and checkpointing of named Float32Array buffers.
 */
export abstract class OptimizerBase implements Optimizer {
  /** The rule. */
  abstract readonly kind: OptimizerKind;
  /** Dense dimension P. */
  readonly parameterCount: number;
  /** Per-parameter state by name, each of length P. */
  protected readonly buffers: Record<string, Float32Array> = {};
  private steps = 0;

  /**
   * @param parameterCount - P, a non-negative integer.
   * @param bufferNames - names of the per-parameter buffers to allocate (zeros).
   * @throws {@link OptimizerError} `invalid-config` for a bad P.
   */
  protected constructor(parameterCount: number, bufferNames: readonly string[]) {
    if (!Number.isInteger(parameterCount) || parameterCount < 0) {
      throw new OptimizerError(
        'invalid-config',
        `parameter count must be a non-negative integer, got ${parameterCount}`,
      );
    }
    this.parameterCount = parameterCount;
    for (const name of bufferNames) this.buffers[name] = new Float32Array(parameterCount);
  }

  /** Steps taken so far, t. */
  get stepCount(): number {
    return this.steps;
  }

  /** See {@link Optimizer.step}. */
  step(weights: Float32Array, update: Float32Array | SparseVector): void {
    checkStepArguments(this.parameterCount, weights, update);
    this.applyStep(weights, update, this.steps + 1);
    this.steps++;
  }

  /**
   * The rule itself, on checked arguments.
   *
   * @param weights - model, modified in place.
   * @param update - checked update.
   * @param t - 1-based index of this step.
   */
  protected abstract applyStep(
    weights: Float32Array,
    update: Float32Array | SparseVector,
    t: number,
  ): void;

  /** See {@link Optimizer.state}. */
  state(): OptimizerState {
    const buffers: Record<string, Float32Array> = {};
    for (const [name, buffer] of Object.entries(this.buffers)) buffers[name] = buffer.slice();
    return { kind: this.kind, step: this.steps, buffers };
  }

  /** See {@link Optimizer.restore}. */
  restore(state: OptimizerState): void {
    if (state.kind !== this.kind) {
      throw new OptimizerError(
        'invalid-state',
        `checkpoint is for '${state.kind}', not '${this.kind}'`,
      );
    }
    if (!Number.isInteger(state.step) || state.step < 0) {
      throw new OptimizerError(
        'invalid-state',
        `step must be a non-negative integer, got ${state.step}`,
      );
    }
    const expected = Object.keys(this.buffers).sort();
    const given = Object.keys(state.buffers).sort();
    if (expected.join() !== given.join()) {
      throw new OptimizerError(
        'invalid-state',
        `checkpoint buffers [${given.join(', ')}] do not match [${expected.join(', ')}]`,
      );
    }
    for (const name of expected) {
      const buffer = state.buffers[name];
      if (buffer.length !== this.parameterCount) {
        throw new OptimizerError(
          'invalid-state',
          `buffer '${name}' has length ${buffer.length}, expected ${this.parameterCount}`,
        );
      }
      for (let i = 0; i < buffer.length; i++) {
        if (!Number.isFinite(buffer[i])) {
          throw new OptimizerError('invalid-state', `buffer '${name}'[${i}] is ${buffer[i]}`);
        }
      }
    }
    for (const name of expected) this.buffers[name].set(state.buffers[name]);
    this.steps = state.step;
  }
}
