import type { Checkpoint } from '../checkpoint-format.js';

/** Parameters of the crash test's checkpoints: 2M floats, 24 MB with Adam's two buffers. */
export const CRASH_PARAMETER_COUNT = 2_000_000;

/**
 * The checkpoint the crash test's writer saves at `version`: entry 0 of the weights is the
 * version, every other entry a fixed function of its index, so a reader can tell a complete
 * file of any version from a mixed or partial one.
 */
export function crashCheckpoint(version: number, base: Float32Array): Checkpoint {
  base[0] = version;
  return {
    version,
    elapsedSeconds: version / 10,
    savedAt: 1_700_000_000_000 + version,
    weights: base,
    optimizer: { kind: 'adam', step: version, buffers: { firstMoment: base, secondMoment: base } },
    schedule: { version },
    extra: null,
  };
}

/** Entries 1.. of {@link crashCheckpoint}'s weights: i / 1024 - 100, exact in float32. */
export function crashBaseWeights(): Float32Array {
  const base = new Float32Array(CRASH_PARAMETER_COUNT);
  for (let i = 1; i < base.length; i++) base[i] = (i % 65_536) / 1024 - 100;
  return base;
}
