import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

/** The tfjs backends a Node process can use without native binaries. */
export type NodeBackend = 'wasm' | 'cpu';

/** Options of {@link useFastestNodeBackend}. */
export interface NodeBackendOptions {
  /**
   * Kernels the work needs; wasm is skipped when it lacks one. Training a CNN
   * needs {@link CONV_TRAINING_KERNELS}: tfjs-backend-wasm 4.22 has no
   * `Conv2DBackpropFilter`.
   */
  readonly requiredKernels?: readonly string[];
  /** Told why wasm was not chosen, when it was not. */
  readonly onFallback?: (reason: string) => void;
}

/** Kernels the wasm backend must have to train a Conv2D layer. */
export const CONV_TRAINING_KERNELS = ['Conv2DBackpropFilter', 'Conv2DBackpropInput'] as const;

/**
 * Selects the fastest tfjs backend available to Node without a native build:
 * 'wasm' when it initialises and has every required kernel (about 20 ms per
 * MLP 784-128-10 step of batch 64 here, against about 110 ms on 'cpu'), else
 * 'cpu', whose reason goes to `onFallback`. tfjs-node is not an option: it
 * downloads libtensorflow at install time (docs/architecture.md#tfjs-backends-and-their-speed).
 *
 * @returns the backend now active.
 */
export async function useFastestNodeBackend(
  options: NodeBackendOptions = {},
): Promise<NodeBackend> {
  const reason = await tryWasm(options.requiredKernels ?? []);
  if (reason === undefined) return 'wasm';
  options.onFallback?.(reason);
  if (!(await tf.setBackend('cpu'))) throw new Error('tfjs could not initialise its cpu backend');
  await tf.ready();
  return 'cpu';
}

async function tryWasm(requiredKernels: readonly string[]): Promise<string | undefined> {
  const registered = new Set(tf.getKernelsForBackend('wasm').map((kernel) => kernel.kernelName));
  const missing = requiredKernels.filter((name) => !registered.has(name));
  if (missing.length > 0) return `the wasm backend lacks the kernels ${missing.join(', ')}`;
  try {
    if (!(await tf.setBackend('wasm'))) return 'the wasm backend failed to initialise';
    await tf.ready();
    return undefined;
  } catch (error) {
    return `the wasm backend failed to initialise: ${error instanceof Error ? error.message : String(error)}`;
  }
}
