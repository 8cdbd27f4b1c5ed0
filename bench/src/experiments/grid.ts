import { simulate, type SimulationResult, type SimulationSpec } from '../sim/simulate.js';
import type { TrainingData } from '../sim/training-data.js';

/** One line of a results table: a configuration and its runs, one per seed. */
export interface ResultGroup {
  readonly key: string;
  readonly label: string;
  /** What differs from the experiment's common parameters. */
  readonly params: Readonly<Record<string, unknown>>;
  readonly runs: readonly SimulationResult[];
}

/** A configuration to run once per seed. */
export interface GroupPlan {
  readonly key: string;
  readonly label: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly spec: (seed: number) => SimulationSpec;
}

/** Runs every plan for every seed, one after the other (the gradients are real, so never in parallel). */
export async function runGrid(
  data: TrainingData,
  plans: readonly GroupPlan[],
  seeds: readonly number[],
  log: (line: string) => void,
): Promise<ResultGroup[]> {
  const groups: ResultGroup[] = [];
  for (const plan of plans) {
    const runs: SimulationResult[] = [];
    for (const seed of seeds) {
      const started = performance.now();
      const result = await simulate(data, plan.spec(seed));
      runs.push(result);
      log(
        `  ${plan.key} seed ${seed}: acc ${result.finalAccuracy.toFixed(4)} at ${(result.endedAt / 1000).toFixed(1)} s virtual, ` +
          `${result.gradients} gradients, ${((performance.now() - started) / 1000).toFixed(1)} s wall`,
      );
    }
    groups.push({ key: plan.key, label: plan.label, params: plan.params, runs });
  }
  return groups;
}
