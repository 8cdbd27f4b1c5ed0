import { mulberry32 } from '@vtrain/optimizer';
import { encodeSparseUpdate } from '@vtrain/protocol';

/**
 * The sparse update every ingest client sends: k = density * P entries at
 * seeded random coordinates with small finite values, encoded once. Clients
 * with the same `indexSeed` send updates on the same coordinates.
 */
export function ingestPayload(
  parameterCount: number,
  density: number,
  indexSeed: number,
): Uint8Array {
  const random = mulberry32(indexSeed);
  const k = Math.ceil(density * parameterCount);
  const chosen = new Set<number>();
  while (chosen.size < k) chosen.add(Math.floor(random() * parameterCount));
  const indices = Uint32Array.from(chosen).sort();
  const values = Float32Array.from(indices, () => (random() - 0.5) * 1e-4);
  return encodeSparseUpdate({ length: parameterCount, indices, values }, { valueFormat: 'f32' });
}
