/**
 * `pnpm bench` (full suite) and `pnpm --filter @vtrain/bench bench:quick`.
 *
 *   node dist/cli.js --suite full|quick [--only exp1,exp1b,exp1c,exp2,exp3,exp4,ingest,overhead,realtime,peer,hostile] [--report-only]
 *
 * Runs the experiments, writes one JSON per experiment and regenerates the
 * report from every JSON present (so `--only` refreshes part of it). The full
 * suite writes `bench/results/*.json`, `docs/benchmarks.md` and
 * `docs/benchmarks/*.svg`; the quick suite writes the same into the
 * git-ignored `bench/results/tmp/quick/` so it never overwrites the committed
 * report.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SUITES } from './experiments/common.js';
import {
  compressionExperiment,
  conditionsExperiment,
  chosenRates,
  CROWDED_CONDITIONS,
  scalingExperiment,
  schedulesExperiment,
  sparsificationExperiment,
  type ChosenRates,
  type ExperimentPlan,
  type ReusedTuning,
} from './experiments/definitions.js';
import { provenanceText, type Recorded } from './provenance.js';
import { runGrid, runTuned } from './experiments/grid.js';
import type { HostileResult } from './hostile/hostile-types.js';
import type { IngestResult } from './ingest/ingest-types.js';
import type { OverheadResult } from './overhead/overhead-types.js';
import type { PeerResult } from './peer/peer-types.js';
import type { RealtimeResult } from './realtime/realtime-types.js';
import type { BrowserOverheadFile, TopKFile } from './report/goals.js';
import { writeReport } from './report/write-report.js';
import { readJson, writeResult, type ExperimentResult } from './results.js';
import { TrainingData } from './sim/training-data.js';

const SIMULATED = ['exp1', 'exp1b', 'exp1c', 'exp2', 'exp3', 'exp4'] as const;
const OTHERS = ['ingest', 'overhead', 'realtime', 'peer', 'hostile'] as const;
type Part = (typeof SIMULATED)[number] | (typeof OTHERS)[number];

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function log(line: string): void {
  console.log(line);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      suite: { type: 'string', default: 'full' },
      only: { type: 'string' },
      'report-only': { type: 'boolean', default: false },
    },
  });
  const suiteName = values.suite === 'quick' ? 'quick' : 'full';
  const scale = SUITES[suiteName];
  const resultsDir =
    suiteName === 'full'
      ? path.join(repoRoot, 'bench', 'results')
      : path.join(repoRoot, 'bench', 'results', 'tmp', 'quick');
  const markdownFile =
    suiteName === 'full'
      ? path.join(repoRoot, 'docs', 'benchmarks.md')
      : path.join(resultsDir, 'benchmarks.md');
  const figureDir =
    suiteName === 'full'
      ? path.join(repoRoot, 'docs', 'benchmarks')
      : path.join(resultsDir, 'figures');
  const all: readonly Part[] = [...SIMULATED, ...OTHERS];
  // The quick suite regenerates the headline table (experiment 1) on fewer seeds; --only adds parts.
  const defaults: Part[] = suiteName === 'quick' ? ['exp1'] : [...all];
  const parts: Part[] = values['report-only']
    ? []
    : values.only
      ? values.only.split(',').filter((p): p is Part => (all as readonly string[]).includes(p))
      : defaults;

  // Experiments 1b, 1c and 4 run at the learning rates experiment 1 chose (this run's, else the file's).
  let exp1Groups: ExperimentResult['groups'] | undefined;
  const rates = async (): Promise<ChosenRates> =>
    chosenRates(
      exp1Groups ??
        (await readJson<ExperimentResult>(path.join(resultsDir, 'exp1-schedules.json')))?.groups,
    );
  // The quick suite measures at the rates the committed full run's tuning chose (no tuning).
  const reuse = async (): Promise<ReusedTuning | undefined> => {
    const file = path.join(repoRoot, 'bench', 'results', 'exp1-schedules.json');
    const full = await readJson<Recorded<ExperimentResult>>(file);
    if (!full?.tuning || full.tuning.length === 0) return undefined;
    return {
      tuning: full.tuning,
      source: `bench/results/exp1-schedules.json (${provenanceText(full.provenance)})`,
    };
  };
  const plans: Record<(typeof SIMULATED)[number], () => Promise<ExperimentPlan>> = {
    exp1: async () => schedulesExperiment(scale, suiteName === 'quick' ? await reuse() : undefined),
    exp1b: async () => conditionsExperiment(scale, await rates()),
    exp1c: async () =>
      conditionsExperiment(scale, await rates(), CROWDED_CONDITIONS, 'exp1c-crowded'),
    exp2: () => Promise.resolve(sparsificationExperiment(scale)),
    exp3: () => Promise.resolve(scalingExperiment(scale)),
    exp4: async () => compressionExperiment(scale, await rates()),
  };
  const started = performance.now();
  const simulated = parts.filter((p): p is (typeof SIMULATED)[number] =>
    (SIMULATED as readonly string[]).includes(p),
  );
  if (simulated.length > 0) {
    const data = await TrainingData.load('all');
    log(`backend ${data.backend}; suite ${suiteName}; seeds ${scale.seeds.join(', ')}`);
    for (const part of simulated) {
      const plan = await plans[part]();
      log(`${plan.id}: ${plan.title}`);
      const partStarted = performance.now();
      const { groups, tuning } = plan.tuned
        ? await runTuned(data, plan.tuned, log)
        : {
            groups: await runGrid(data, plan.plans, scale.seeds, log),
            tuning: plan.reusedTuning,
          };
      if (part === 'exp1') exp1Groups = groups;
      const result: ExperimentResult = {
        id: plan.id,
        title: plan.title,
        suite: suiteName,
        parameters: { ...plan.parameters, testSet: data.testSet },
        groups,
        ...(tuning ? { tuning } : {}),
        harnessSeconds: Math.round((performance.now() - partStarted) / 1000),
      };
      await writeResult(path.join(resultsDir, `${plan.id}.json`), result);
      log(`${plan.id}: done in ${result.harnessSeconds} s`);
    }
  }
  if (parts.includes('ingest')) {
    const { runIngestBench } = await import('./ingest/ingest-bench.js');
    const result = await runIngestBench(suiteName, log);
    await writeResult(path.join(resultsDir, 'ingest.json'), result);
  }
  if (parts.includes('overhead')) {
    const { runOverheadBench } = await import('./overhead/overhead-bench.js');
    const result = await runOverheadBench(suiteName, log);
    await writeResult(path.join(resultsDir, 'overhead.json'), result);
  }

  if (parts.includes('realtime')) {
    const { runRealtimeBench } = await import('./realtime/realtime-bench.js');
    const result = await runRealtimeBench(suiteName, log);
    await writeResult(path.join(resultsDir, 'realtime.json'), result);
  }
  if (parts.includes('peer')) {
    const { runPeerBench } = await import('./peer/peer-bench.js');
    const result = await runPeerBench(suiteName, log);
    await writeResult(path.join(resultsDir, 'peer.json'), result);
  }
  if (parts.includes('hostile')) {
    const { runHostileBench } = await import('./hostile/hostile-bench.js');
    const result = await runHostileBench(suiteName, log);
    await writeResult(path.join(resultsDir, 'hostile.json'), result);
  }

  const read = (id: string): Promise<ExperimentResult | undefined> =>
    readJson<ExperimentResult>(path.join(resultsDir, `${id}.json`));
  const [
    schedules,
    spreadDelay,
    crowded,
    sparsification,
    scaling,
    compression,
    ingest,
    overhead,
    realtime,
    peer,
    hostile,
  ] = await Promise.all([
    read('exp1-schedules'),
    read('exp1b-conditions'),
    read('exp1c-crowded'),
    read('exp2-sparsification'),
    read('exp3-scaling'),
    read('exp4-compression'),
    readJson<IngestResult>(path.join(resultsDir, 'ingest.json')),
    readJson<OverheadResult>(path.join(resultsDir, 'overhead.json')),
    readJson<RealtimeResult>(path.join(resultsDir, 'realtime.json')),
    readJson<PeerResult>(path.join(resultsDir, 'peer.json')),
    readJson<HostileResult>(path.join(resultsDir, 'hostile.json')),
  ]);
  const browserResults = path.join(repoRoot, 'apps/web-worker-client/bench/results');
  const [topK, browserOverhead, browserOverheadDemo] = await Promise.all([
    readJson<TopKFile>(path.join(repoRoot, 'packages/optimizer/bench/results/topk.json')),
    readJson<BrowserOverheadFile>(path.join(browserResults, 'engine-overhead.json')),
    readJson<BrowserOverheadFile>(path.join(browserResults, 'engine-overhead-local-steps.json')),
  ]);
  const conditions =
    spreadDelay && crowded
      ? { ...spreadDelay, groups: [...spreadDelay.groups, ...crowded.groups] }
      : (spreadDelay ?? crowded);
  await writeReport(
    {
      suite: suiteName,
      command: suiteName === 'full' ? 'pnpm bench' : 'pnpm --filter @vtrain/bench bench:quick',
      ...(schedules ? { schedules } : {}),
      ...(conditions ? { conditions } : {}),
      ...(spreadDelay && crowded ? { conditionsAlso: crowded } : {}),
      ...(sparsification ? { sparsification } : {}),
      ...(scaling ? { scaling } : {}),
      ...(compression ? { compression } : {}),
      ...(ingest ? { ingest } : {}),
      ...(overhead ? { overhead } : {}),
      ...(realtime ? { realtime } : {}),
      ...(peer ? { peer } : {}),
      ...(hostile ? { hostile } : {}),
      ...(topK ? { topK } : {}),
      ...(browserOverhead ? { browserOverhead } : {}),
      ...(browserOverheadDemo ? { browserOverheadDemo } : {}),
    },
    { markdownFile, figureDir },
  );
  log(
    `report: ${path.relative(repoRoot, markdownFile)} (${Math.round((performance.now() - started) / 1000)} s in all)`,
  );
}

await main();
