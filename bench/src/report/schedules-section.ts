import type { LearningRates, ResultGroup, TuningRecord } from '../experiments/grid.js';
import type { ExperimentResult } from '../results.js';
import { meanInterval95, spread } from '../stats.js';
import { accuracyChart, bytesChart, thresholdChart } from './figures.js';
import { pct, pctSpread, seconds, table } from './format.js';
import {
  calibrationText,
  clusterLine,
  figure,
  group,
  testSetText,
  timeCell,
  trainingLine,
  type Output,
} from './parts.js';
import { summarise, TARGETS } from './summaries.js';
import {
  hybridVerdict,
  intervalText,
  outcome,
  pairedComparison,
  verdictSentence,
  type HybridVerdict,
} from './verdict.js';

/** "worker 0.2 × server 8 = 1.6". */
export function ratesText(rates: LearningRates | undefined): string {
  if (!rates) return 'worker 0.2 × server 1 (untuned)';
  const product = Math.round(rates.workerLr * rates.serverLr * 1000) / 1000;
  return `worker ${rates.workerLr} × server ${rates.serverLr} = ${product}`;
}

function ratesOf(params: Readonly<Record<string, unknown>>): LearningRates | undefined {
  return params.rates as LearningRates | undefined;
}

/** Whether the chosen step is the smallest or largest the grid tried (the optimum may lie beyond). */
function edgeNote(t: TuningRecord): string {
  const step = (r: LearningRates): number => r.workerLr * r.serverLr;
  const steps = t.candidates.map(step);
  const chosen = step(t.chosen);
  if (chosen >= Math.max(...steps)) return ' (largest step of its grid)';
  if (chosen <= Math.min(...steps)) return ' (smallest step of its grid)';
  return '';
}

function tuningTable(tuning: readonly TuningRecord[]): string {
  const rows = tuning.flatMap((t) =>
    t.candidates.map((c) => {
      const chosen = c.workerLr === t.chosen.workerLr && c.serverLr === t.chosen.serverLr;
      return [
        t.label,
        String(c.workerLr),
        String(c.serverLr),
        String(Math.round(c.workerLr * c.serverLr * 1000) / 1000),
        c.accuracies.map((a) => pct(a, 2)).join(', '),
        chosen ? `**${pct(c.meanAccuracy, 2)}**` : pct(c.meanAccuracy, 2),
        chosen ? `**chosen**${edgeNote(t)}` : '',
      ];
    }),
  );
  return table(
    [
      'schedule',
      'worker lr',
      'server lr',
      'step (product)',
      `accuracy per tuning seed (${tuning[0]?.seeds.join(', ') ?? ''})`,
      'mean',
      '',
    ],
    rows,
  );
}

function measuredTable(r: ExperimentResult): string {
  const rows = r.groups.map((g) => {
    const s = summarise(g);
    const ci = meanInterval95(g.runs.map((x) => x.finalAccuracy));
    const busy = spread(
      g.runs.map((x) => (x.coordinatorBusyMs ?? Number.NaN) / Math.max(1, x.endedAt)),
    );
    return [
      s.label,
      ratesText(ratesOf(g.params)),
      pctSpread(s.accuracy),
      Number.isFinite(ci.low) ? `${pct(ci.low, 2)}–${pct(ci.high, 2)}` : 'n/a',
      ...TARGETS.map((t) => timeCell(s, t)),
      Math.round(s.versions.mean).toString(),
      Math.round(s.updatesApplied.mean).toString(),
      `${s.stalenessP50} / ${s.stalenessP90}`,
      String(s.rejected),
      pct(busy.mean, 1),
    ];
  });
  return table(
    [
      'schedule',
      'learning rates (chosen)',
      'test accuracy at budget (mean ± std, min–max)',
      '95% CI of the mean',
      ...TARGETS.map((t) => `time to ${t * 100}%`),
      'versions',
      'updates applied',
      'staleness p50 / p90',
      'rejected (all seeds)',
      'coordinator thread busy',
    ],
    rows,
  );
}

/** The paired comparisons of P1: hybrid against each pure mode, and async against sync for context. */
function answerTable(r: ExperimentResult): string[] {
  const sync = group(r, 'sync');
  const async = group(r, 'async');
  const hybrid = group(r, 'hybrid-linear');
  if (!sync || !async || !hybrid) return [];
  const pairs = [
    { name: 'hybrid − synchronous', a: hybrid, b: sync },
    { name: 'hybrid − asynchronous', a: hybrid, b: async },
    { name: 'asynchronous − synchronous', a: async, b: sync },
  ];
  const rows = pairs.map(({ name, a, b }) => {
    const c = pairedComparison(a, b);
    return [name, intervalText(c), `${c.ahead} of ${c.seeds}`, outcome(c)];
  });
  return [
    table(
      [
        'paired difference in final test accuracy (same seeds)',
        'mean (95% t-interval)',
        'first ahead in',
        'outcome',
      ],
      rows,
    ),
    '',
  ];
}

/** Section 1: the P1 question with tuned baselines, paired seeds and confidence intervals. */
export async function schedulesSection(
  out: Output,
  r: ExperimentResult,
): Promise<{ lines: string[]; verdict?: HybridVerdict }> {
  const p = r.parameters as {
    cluster: Record<string, unknown>;
    training: Record<string, unknown>;
    budgetMs: number;
    seeds: number[];
    tuningSeeds?: number[];
  };
  const tuned = r.tuning !== undefined && r.tuning.length > 0;
  const lines = [
    '## 1. P1: synchronous, asynchronous and the Smooth Switch hybrid at a fixed budget',
    '',
    `Parameters: ${clusterLine(p.cluster)}; ${trainingLine(p.training)}; budget ${seconds(p.budgetMs)} of virtual time; ${testSetText(r.parameters)}. The hybrid's threshold K runs on the time clock from 1 to N, reaching N at half the budget (then the run is fully synchronous). Synchronous rounds use the platform's default deadline (2 × p90 of recent step times, clamped to 1–60 s).`,
    '',
    calibrationText(r.parameters),
    '',
  ];
  const reused = r.parameters.tuningReusedFrom as string | undefined;
  if (tuned && reused !== undefined) {
    lines.push(
      `**Tuning** (not run again here): this ${r.suite} run measures at the rates the full suite's tuning chose, read from ${reused}, on fewer seeds than the full suite (${p.seeds.length}; its intervals are wider). Its grid:`,
      '',
      tuningTable(r.tuning ?? []),
      '',
    );
  } else if (tuned) {
    lines.push(
      `**Tuning.** Each schedule ran its own learning-rate grid on tuning seed${p.tuningSeeds && p.tuningSeeds.length > 1 ? 's' : ''} ${(p.tuningSeeds ?? []).join(', ')} (kept apart from the measurement seeds); the rates with the highest mean final test accuracy were chosen. With one local step both optimizers are plain SGD, so what moves the model is the product worker lr × server lr; the server lr carries the linear scaling rule (lr × K for a mean of K updates: K = 8 for synchronous rounds, 4, the mean of the hybrid's ramp, for the hybrid). The server lr is fixed for a run (the run engine has no step that grows with K), so the hybrid has to pick one step for its asynchronous start (K = 1) and its synchronous end (K = 8), where each pure mode gets the step that suits it.`,
      '',
      tuningTable(r.tuning ?? []),
      '',
    );
  }
  lines.push(
    `**Measured** at the chosen rates on seeds ${p.seeds.join(', ')} (${p.seeds.length} seeds; a seed fixes the initial weights, the shards, the data order and every worker's timings, so the schedules are paired seed by seed):`,
    '',
    measuredTable(r),
    '',
    'Times to a target are interpolated between evaluations and averaged over the seeds that reached it; "coordinator thread busy" is the share of virtual time the modelled coordinator spent on updates.',
    '',
    ...answerTable(r),
  );
  const sync = group(r, 'sync');
  const async = group(r, 'async');
  const hybrid = group(r, 'hybrid-linear');
  let verdict: HybridVerdict | undefined;
  if (sync && async && hybrid) {
    verdict = hybridVerdict(hybrid, sync, async);
    lines.push(`**P1 answer.** ${verdictSentence(verdict)}`, '');
  }
  lines.push(
    await figure(
      out,
      'exp1-schedules.svg',
      accuracyChart(
        r.groups,
        'Experiment 1: test accuracy, tuned rates, 8 heterogeneous workers',
        0.6,
      ),
    ),
    '',
    await figure(
      out,
      'exp1-schedules-zoom.svg',
      accuracyChart(r.groups, 'Experiment 1 (zoom): the last stretch', 0.85),
    ),
    '',
    'The phase of each schedule (K, the updates the coordinator averages per model step: 1 is asynchronous, N synchronous) and the bytes on the wire, against the same virtual time:',
    '',
    await figure(
      out,
      'exp1-threshold.svg',
      thresholdChart(r.groups, 'Experiment 1: K over time (mean over seeds)'),
    ),
    '',
    await figure(out, 'exp1-bytes.svg', bytesChart(r.groups, 'Experiment 1: bytes over time')),
    '',
  );
  return { lines, verdict };
}

/** Experiment 1b's groups plus experiment 1's sync, async and linear hybrid as the default condition. */
function withDefaultCondition(
  r: ExperimentResult,
  schedules: ExperimentResult | undefined,
): ExperimentResult {
  // Only a default condition run on the same budget compares (older runs had other budgets).
  if (!schedules || schedules.parameters.budgetMs !== r.parameters.budgetMs) return r;
  const cluster = (schedules.parameters as { cluster: unknown }).cluster;
  const defaults = schedules.groups
    .filter((g) => ['sync', 'async', 'hybrid-linear'].includes(g.key))
    .map((g) => ({
      ...g,
      key: `default/${g.key}`,
      label: `spread 1-4x, 50 ms, 8 workers (experiment 1): ${g.label}`,
      params: { ...g.params, condition: 'default', schedule: g.key, cluster },
    }));
  return { ...r, groups: [...defaults, ...r.groups] };
}

function conditionVerdict(v: HybridVerdict): string {
  if (v.beatsBothClearly) return '**beats both**';
  const parts = [`${outcome(v.overSync)} vs sync`, `${outcome(v.overAsync)} vs async`];
  return parts.join(', ');
}

/** Rows whose coordinator refused more than a tenth of the updates sent, with the reasons: a run that stalls says why. */
function refusals(groups: readonly ResultGroup[]): string[] {
  const out: string[] = [];
  for (const g of groups) {
    const sent = g.runs.reduce((a, x) => a + x.updatesSent, 0);
    const reasons: Record<string, number> = {};
    for (const run of g.runs) {
      for (const [reason, count] of Object.entries(run.rejected)) {
        reasons[reason] = (reasons[reason] ?? 0) + count;
      }
    }
    const refused = Object.values(reasons).reduce((a, b) => a + b, 0);
    if (sent === 0 || refused / sent <= 0.1) continue;
    const why = Object.entries(reasons)
      .sort((a, b) => b[1] - a[1])
      .map(([reason, count]) => `${count} \`${reason}\``)
      .join(', ');
    const versions = g.runs.map((x) => x.versions).join(', ');
    out.push(
      `- ${g.label}: the coordinator refused ${refused} of the ${sent} updates sent over all seeds (${why}); model versions per seed: ${versions}.`,
    );
  }
  return out.length === 0 ? [] : ['Refused updates:', '', ...out, ''];
}

/** Section 1b: where the hybrid wins, by worker spread, delay and count; paired intervals per condition. */
export async function conditionsSection(
  out: Output,
  raw: ExperimentResult,
  schedules: ExperimentResult | undefined,
): Promise<{ lines: string[]; verdicts: { condition: string; verdict: HybridVerdict }[] }> {
  const r = withDefaultCondition(raw, schedules);
  const conditions = [...new Set(r.groups.map((g) => String(g.params.condition)))];
  const seeds = r.parameters.seeds as number[];
  const lines = [
    '## 1b. Where the hybrid wins: worker spread, delay and count',
    '',
    `Synchronous, asynchronous and the linear hybrid under other cluster conditions (experiments 1b and 1c), ${r.parameters.rates === undefined ? 'all at one learning rate (an older run, not tuned)' : 'each at the learning rates experiment 1 chose (not tuned again per condition)'}; everything else as in experiment 1${r.groups.some((g) => g.params.condition === 'default') ? ', whose rows are repeated as the default condition' : ''}; budget ${seconds(Number(r.parameters.budgetMs))}, seeds ${seeds.join(', ')}; ${testSetText(r.parameters)}. Differences are paired by seed, with 95% t-intervals.`,
    '',
  ];
  const verdicts: { condition: string; verdict: HybridVerdict }[] = [];
  const rows: string[][] = [];
  for (const condition of conditions) {
    const sync = group(r, `${condition}/sync`);
    const async = group(r, `${condition}/async`);
    const hybrid = group(r, `${condition}/hybrid-linear`);
    if (!sync || !async || !hybrid) continue;
    const v = hybridVerdict(hybrid, sync, async);
    verdicts.push({ condition, verdict: v });
    const cluster = sync.params.cluster as Record<string, unknown>;
    rows.push([
      sync.label.split(':')[0] ?? condition,
      pctSpread(summarise(sync).accuracy),
      pctSpread(summarise(async).accuracy),
      pctSpread(summarise(hybrid).accuracy),
      intervalText(v.overSync),
      intervalText(v.overAsync),
      `${v.seedsBeatingBoth}/${v.seeds}`,
      conditionVerdict(v),
    ]);
    lines.push(`- ${condition}: ${clusterLine(cluster)}.`);
  }
  lines.push(
    '',
    table(
      [
        'condition',
        'synchronous',
        'asynchronous',
        'hybrid linear',
        'hybrid − sync',
        'hybrid − async',
        'seeds hybrid ahead of both',
        'hybrid (95% intervals)',
      ],
      rows,
    ),
    '',
  );
  lines.push(...refusals(r.groups));
  for (const condition of conditions) {
    const groups = r.groups.filter((g) => g.params.condition === condition);
    lines.push(
      await figure(
        out,
        `exp1b-${condition}.svg`,
        accuracyChart(groups, `Experiment 1b: ${condition}`, 0.6, (g) => String(g.params.schedule)),
      ),
      '',
    );
  }
  return { lines, verdicts };
}
