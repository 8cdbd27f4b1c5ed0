import { findRunPreset, type RunConfigInput } from '@vtrain/protocol';

const FASTEST = findRunPreset('fastest');
if (FASTEST === undefined) throw new Error('the protocol has no `fastest` preset');

/**
 * The run created on first start: the protocol's `fastest` preset, named.
 * MNIST cut into two IID shards (each of two workers trains on 30,000
 * examples; a third worker shares shard 0), the 784-128-10 MLP, and local SGD
 * in rounds: each worker takes 50 Adam steps (batch 64, rate 5e-3) from the
 * round's model, sends the change of its weights as 3% top-k with error
 * feedback in f16, and the coordinator applies the mean of the round's
 * changes with server SGD at rate 2 (with two workers, their sum) and sends
 * each worker the round's change exactly. The full test set is evaluated
 * after every round.
 *
 * Built from the preset, not copied, so the demo run and the dashboard's
 * `fastest` recipe cannot drift apart. Chosen by measurement with
 * `pnpm --filter @vtrain/bench bench:peer` and its `explore.js`
 * (docs/benchmarks.md, "Against DISCO"): with two headless workers it reached
 * 95.6% in 8 rounds, against the earlier hybrid default (SGD 0.1, batch 32,
 * 1% top-k every step, 16 shards) that stayed below 94% after 150 s and sent
 * 30 MB over socket.io.
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
