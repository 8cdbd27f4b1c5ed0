import { mulberry32 } from '@vtrain/optimizer';
import { encodeSparseUpdate } from '@vtrain/protocol';

/** Updates one simulated volunteer cycles through: each a different coordinate set. */
export const PAYLOADS_PER_VOLUNTEER = 3;

/** The smallest and largest magnitude of an entry: representable in f16, never rounded to zero. */
const MIN_MAGNITUDE = 1e-4;
const MAX_MAGNITUDE = 1e-3;

/**
 * A volunteer's sparse updates, encoded once: k = ceil(density x P) entries
 * each (the run's top-k count), at coordinates drawn from the volunteer's own
 * seed, so no two volunteers (and no two of one volunteer's updates) send the
 * same coordinate set, as top-k of different data would not. Values are small
 * and of either sign, in the run's value format, so the guarded mean and the
 * model guard accept them and the model stays finite.
 */
export function volunteerPayloads(
  parameterCount: number,
  density: number,
  valueFormat: 'f32' | 'f16',
  seed: number,
): Uint8Array[] {
  const random = mulberry32(seed);
  const k = Math.min(parameterCount, Math.max(1, Math.ceil(density * parameterCount)));
  const payloads: Uint8Array[] = [];
  for (let p = 0; p < PAYLOADS_PER_VOLUNTEER; p++) {
    const chosen = new Set<number>();
    while (chosen.size < k) chosen.add(Math.floor(random() * parameterCount));
    const indices = Uint32Array.from(chosen).sort();
    const values = Float32Array.from(indices, () => {
      const magnitude = MIN_MAGNITUDE + random() * (MAX_MAGNITUDE - MIN_MAGNITUDE);
      return random() < 0.5 ? -magnitude : magnitude;
    });
    payloads.push(encodeSparseUpdate({ length: parameterCount, indices, values }, { valueFormat }));
  }
  return payloads;
}
