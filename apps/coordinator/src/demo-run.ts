import { findRunPreset, type RunConfigInput } from '@vtrain/protocol';

const FASTEST = findRunPreset('fastest');
if (FASTEST === undefined) throw new Error('the protocol has no `fastest` preset');

/**
 * The run created on first start: the protocol's `fastest` preset, named
 * (its TSDoc in `packages/protocol/src/presets.ts` gives the recipe and how it
 * was chosen). MNIST cut into two IID shards (each of two workers trains on
 * 30,000 examples; a third worker shares shard 0), the 784-128-10 MLP, and
 * local SGD in rounds of 50 Adam steps with 1% f16 top-k updates.
 *
 * Built from the preset, not copied, so the demo run and the dashboard's
 * `fastest` recipe cannot drift apart.
 *
 * Safety is left at the defaults (docs/algorithms.md#guarded-mean-the-default): the guarded
 * mean holds every update to the run's accepted ones (its two workers' first updates, about a
 * third of the model's norm, end the warm-up unclipped), and the model guard refuses any step
 * that would leave a weight non-finite or beyond 1e6. Local SGD takes one update per worker
 * per round, so no per-worker cap applies.
 */
export const DEMO_RUN: RunConfigInput = {
  name: 'Demo: MNIST MLP, local SGD',
  ...FASTEST.config,
};
