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

/** Worker and server learning rates of one candidate (SGD on both sides). */
export interface LearningRates {
  readonly workerLr: number;
  readonly serverLr: number;
}

/** One schedule to tune: its learning-rate grid and how to build a run from a choice. */
export interface TunedSchedulePlan {
  readonly key: string;
  readonly label: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly candidates: readonly LearningRates[];
  readonly spec: (rates: LearningRates, seed: number) => SimulationSpec;
}

/** Tune, then measure: the grid on `tuningSeeds`, the chosen rates on `seeds`. */
export interface TunedPlan {
  readonly schedules: readonly TunedSchedulePlan[];
  readonly tuningSeeds: readonly number[];
  readonly seeds: readonly number[];
}

/** A candidate's tuning runs: final test accuracy per tuning seed (curves are not kept). */
export interface TuningCandidate extends LearningRates {
  readonly accuracies: readonly number[];
  readonly meanAccuracy: number;
}

/** One schedule's tuning: every candidate and the one chosen. */
export interface TuningRecord {
  readonly key: string;
  readonly label: string;
  readonly seeds: readonly number[];
  readonly candidates: readonly TuningCandidate[];
  readonly chosen: LearningRates;
}

/**
 * The candidate with the highest mean final accuracy over the tuning seeds;
 * ties go to the smaller effective step (worker lr x server lr).
 */
export function chooseRates(candidates: readonly TuningCandidate[]): LearningRates {
  if (candidates.length === 0) throw new Error('no candidates to choose from');
  const step = (c: LearningRates): number => c.workerLr * c.serverLr;
  const best = [...candidates].sort(
    (a, b) => b.meanAccuracy - a.meanAccuracy || step(a) - step(b),
  )[0];
  return { workerLr: best.workerLr, serverLr: best.serverLr };
}

/**
 * Runs every schedule's learning-rate grid on the tuning seeds, chooses each
 * schedule's rates by {@link chooseRates}, then runs the chosen rates on the
 * measurement seeds (kept apart from the tuning seeds, so the reported runs
 * are not the ones the choice was made on). Groups carry the chosen rates in
 * `params.rates`.
 */
export async function runTuned(
  data: TrainingData,
  plan: TunedPlan,
  log: (line: string) => void,
): Promise<{ tuning: TuningRecord[]; groups: ResultGroup[] }> {
  const tuning: TuningRecord[] = [];
  for (const schedule of plan.schedules) {
    const candidates: TuningCandidate[] = [];
    for (const rates of schedule.candidates) {
      const accuracies: number[] = [];
      for (const seed of plan.tuningSeeds) {
        const started = performance.now();
        const result = await simulate(data, schedule.spec(rates, seed));
        accuracies.push(result.finalAccuracy);
        log(
          `  tune ${schedule.key} worker lr ${rates.workerLr} server lr ${rates.serverLr} seed ${seed}: ` +
            `acc ${result.finalAccuracy.toFixed(4)}, ${((performance.now() - started) / 1000).toFixed(1)} s wall`,
        );
      }
      const meanAccuracy = accuracies.reduce((a, b) => a + b, 0) / accuracies.length;
      candidates.push({ ...rates, accuracies, meanAccuracy });
    }
    const chosen = chooseRates(candidates);
    log(`  ${schedule.key}: chose worker lr ${chosen.workerLr}, server lr ${chosen.serverLr}`);
    tuning.push({
      key: schedule.key,
      label: schedule.label,
      seeds: plan.tuningSeeds,
      candidates,
      chosen,
    });
  }
  const groups = await runGrid(
    data,
    plan.schedules.map((schedule, i) => {
      const rates = tuning[i].chosen;
      return {
        key: schedule.key,
        label: schedule.label,
        params: { ...schedule.params, rates },
        spec: (seed: number) => schedule.spec(rates, seed),
      };
    }),
    plan.seeds,
    log,
  );
  return { tuning, groups };
}
