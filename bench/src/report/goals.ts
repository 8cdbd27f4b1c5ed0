import type { ExperimentResult } from '../results.js';
import type { IngestResult } from '../ingest/ingest-types.js';
import type { OverheadResult } from '../overhead/overhead-types.js';
import type { PeerResult } from '../peer/peer-types.js';
import { provenanceText, type Provenance, type Recorded } from '../provenance.js';
import { bytes, pct, table } from './format.js';
import { peerHeadline } from './peer-section.js';
import { summarise } from './summaries.js';
import { hybridVerdict, intervalText, points } from './verdict.js';

/** `packages/optimizer/bench/results/topk.json`, the parts the goals table reads. */
export interface TopKFile {
  readonly date: string;
  readonly target: { readonly parameterCount: number; readonly maxMedianMs: number };
  readonly sizes: readonly {
    readonly parameterCount: number;
    readonly timings: readonly { readonly method: string; readonly medianMs: number }[];
  }[];
}

/**
 * `apps/web-worker-client/bench/results/engine-overhead.json` (one step per
 * update) or `engine-overhead-local-steps.json` (the demo run's local steps),
 * the parts the goals table reads.
 */
export interface BrowserOverheadFile {
  readonly chromium: string;
  /** When it was measured (files older than this field have none). */
  readonly date?: string;
  readonly results: readonly {
    readonly backend: string;
    readonly bareSamplesPerSecond: number;
    readonly engineSamplesPerSecond: number;
    /** Median over rounds of engine / bare (files older than this field have one round and none). */
    readonly ratio?: number;
  }[];
}

/** What the goals table is computed from; a missing file makes its rows say so. */
export interface GoalInputs {
  readonly schedules?: Recorded<ExperimentResult>;
  readonly sparsification?: Recorded<ExperimentResult>;
  readonly ingest?: Recorded<IngestResult>;
  readonly overhead?: Recorded<OverheadResult>;
  readonly peer?: Recorded<PeerResult>;
  readonly topK?: Recorded<TopKFile>;
  readonly browserOverhead?: Recorded<BrowserOverheadFile>;
  readonly browserOverheadDemo?: Recorded<BrowserOverheadFile>;
}

type Verdict = 'met' | 'not met';

interface Goal {
  readonly goal: string;
  readonly measured: string;
  readonly verdict: Verdict | 'not measured';
  readonly source: string;
}

function source(file: string, provenance: Provenance | undefined, date?: string): string {
  // The two package benches predate `provenance` and record only their date.
  const where =
    provenance === undefined && date !== undefined ? `dated ${date}` : provenanceText(provenance);
  return `\`${file}\` (${where})`;
}

function unmeasured(goal: string, file: string): Goal {
  return { goal, measured: 'no result file', verdict: 'not measured', source: `\`${file}\`` };
}

function verdict(met: boolean): Verdict {
  return met ? 'met' : 'not met';
}

function hybridGoal(r: Recorded<ExperimentResult> | undefined): Goal {
  const goal =
    'P1: the Smooth Switch hybrid beats both pure modes at a fixed budget (8 heterogeneous workers, each schedule at its tuned learning rates; 95% intervals of paired differences above 0)';
  const file = 'bench/results/exp1-schedules.json';
  const sync = r?.groups.find((g) => g.key === 'sync');
  const async = r?.groups.find((g) => g.key === 'async');
  const hybrids = r?.groups.filter((g) => g.key.startsWith('hybrid')) ?? [];
  if (!r || !sync || !async || hybrids.length === 0) return unmeasured(goal, file);
  const best = hybrids
    .map((h) => hybridVerdict(h, sync, async))
    .sort(
      (a, b) =>
        Math.min(b.meanGainOverSync, b.meanGainOverAsync) -
        Math.min(a.meanGainOverSync, a.meanGainOverAsync),
    )[0];
  const tuned = r.tuning === undefined ? ' (untuned: one learning rate for all)' : '';
  return {
    goal,
    measured: `${best.hybrid}${tuned}: ${intervalText(best.overSync)} over sync, ${intervalText(best.overAsync)} over async, ${best.seeds} paired seeds`,
    verdict: verdict(best.beatsBothClearly && r.tuning !== undefined),
    source: source(file, r.provenance),
  };
}

function sparsificationGoal(r: Recorded<ExperimentResult> | undefined): Goal {
  const goal = '1% top-k with error feedback beats dense asynchronous SGD under staleness';
  const file = 'bench/results/exp2-sparsification.json';
  const dense = r?.groups.find((g) => g.key === 'd1');
  const sparse = r?.groups.find((g) => g.key === 'd0.01+ef');
  if (!r || !dense || !sparse) return unmeasured(goal, file);
  const d = summarise(dense).accuracy.mean;
  const s = summarise(sparse).accuracy.mean;
  return {
    goal,
    measured: `${pct(s, 1)} against ${pct(d, 1)} (${points(s - d)})`,
    verdict: verdict(s > d),
    source: source(file, r.provenance),
  };
}

function ingestGoal(r: Recorded<IngestResult> | undefined): Goal {
  const goal =
    'Coordinator ingest, distinct coordinates per client: ≥ 1,000 updates/s and ≥ 50% of bare socket.io';
  const file = 'bench/results/ingest.json';
  if (!r) return unmeasured(goal, file);
  const rate = r.distinctIndices.updatesPerSecond;
  const share = rate / r.bare.updatesPerSecond;
  return {
    goal,
    measured: `${rate.toFixed(0)} updates/s, ${pct(share, 0)} of bare`,
    verdict: verdict(rate >= 1000 && share >= 0.5),
    source: source(file, r.provenance),
  };
}

function workerGoal(r: Recorded<OverheadResult> | undefined): Goal {
  const goal = "Headless worker (Node, wasm) ≥ 85% of a bare tfjs loop's samples/s";
  const file = 'bench/results/overhead.json';
  if (!r) return unmeasured(goal, file);
  // Per configuration: the demo run's local steps and one step per update differ most.
  const demo = r.demo === undefined ? '' : `; demo run (${r.demo.label}): ${pct(r.demo.ratio, 0)}`;
  return {
    goal,
    measured: `async, one step per update: ${pct(r.ratio, 0)}${demo}`,
    verdict: verdict(r.ratio >= 0.85 && (r.demo === undefined || r.demo.ratio >= 0.85)),
    source: source(file, r.provenance),
  };
}

const BROWSER_FILES = {
  oneStep: 'apps/web-worker-client/bench/results/engine-overhead.json',
  demo: 'apps/web-worker-client/bench/results/engine-overhead-local-steps.json',
} as const;

function browserRatios(r: BrowserOverheadFile): { backend: string; ratio: number }[] {
  return r.results.map((x) => ({
    backend: x.backend,
    ratio: x.ratio ?? x.engineSamplesPerSecond / x.bareSamplesPerSecond,
  }));
}

function browserGoal(
  oneStep: Recorded<BrowserOverheadFile> | undefined,
  demo: Recorded<BrowserOverheadFile> | undefined,
): Goal {
  const goal = 'Browser training engine ≥ 85% of a bare tfjs loop, every backend (Chromium)';
  const measured = [oneStep, demo].filter((r) => r !== undefined && r.results.length > 0);
  if (measured.length === 0) return unmeasured(goal, BROWSER_FILES.oneStep);
  // Like the headless worker's goal: per configuration, and met only if every row is.
  const parts = [
    { label: 'one step per update', r: oneStep, file: BROWSER_FILES.oneStep },
    { label: 'demo run (50 local Adam steps)', r: demo, file: BROWSER_FILES.demo },
  ].flatMap(({ label, r, file }) =>
    r === undefined || r.results.length === 0 ? [] : [{ label, file, r, ratios: browserRatios(r) }],
  );
  return {
    goal,
    measured: parts
      .map(
        (p) => `${p.label}: ${p.ratios.map((x) => `${x.backend} ${pct(x.ratio, 0)}`).join(', ')}`,
      )
      .join('; '),
    verdict: verdict(parts.every((p) => p.ratios.every((x) => x.ratio >= 0.85))),
    source: parts.map((p) => source(p.file, p.r.provenance, p.r.date)).join('; '),
  };
}

function topKGoal(r: Recorded<TopKFile> | undefined): Goal {
  const file = 'packages/optimizer/bench/results/topk.json';
  const size = r?.sizes.find((s) => s.parameterCount === r.target.parameterCount);
  const timing = size?.timings.find((t) => t.method.startsWith('selectTopK'));
  if (!r || !timing)
    return unmeasured('Top-k selection at 1% of 1M parameters within its time budget', file);
  return {
    goal: `Top-k selection at 1% of ${r.target.parameterCount.toLocaleString('en-US')} parameters in ≤ ${r.target.maxMedianMs} ms`,
    measured: `${timing.medianMs.toFixed(1)} ms (median)`,
    verdict: verdict(timing.medianMs <= r.target.maxMedianMs),
    source: source(file, r.provenance, r.date),
  };
}

function peerGoals(r: Recorded<PeerResult> | undefined): Goal[] {
  const file = 'bench/results/peer.json';
  const timeGoal = "Demo run to 95.6% on the full MNIST test set in ≤ 54 s (half of DISCO's 108 s)";
  const bytesGoal =
    "… with ≤ 290 KB of socket.io traffic, both ways (a twentieth of DISCO's 5.7 MB)";
  if (!r) return [unmeasured(timeGoal, file), unmeasured(bytesGoal, file)];
  const head = peerHeadline(r);
  return [
    {
      goal: timeGoal,
      measured:
        head.seconds === undefined
          ? 'not reached in every repetition'
          : `${head.seconds.toFixed(1)} s (median)`,
      verdict: verdict(head.seconds !== undefined && head.seconds <= r.goal.seconds),
      source: source(file, r.provenance),
    },
    {
      goal: bytesGoal,
      measured: `${bytes(head.bytes)} (median)`,
      verdict: verdict(head.bytes <= r.goal.bytes),
      source: source(file, r.provenance),
    },
  ];
}

/** "Goals at a glance": each goal, its measured value, met or not, and the file (with commit and date) it comes from. */
export function goalsSection(inputs: GoalInputs): string[] {
  const goals: Goal[] = [
    hybridGoal(inputs.schedules),
    sparsificationGoal(inputs.sparsification),
    ...peerGoals(inputs.peer),
    ingestGoal(inputs.ingest),
    workerGoal(inputs.overhead),
    browserGoal(inputs.browserOverhead, inputs.browserOverheadDemo),
    topKGoal(inputs.topK),
  ];
  return [
    '## Goals at a glance',
    '',
    table(
      ['goal', 'measured', 'verdict', 'from'],
      goals.map((g) => [g.goal, g.measured, g.verdict === 'met' ? '**met**' : g.verdict, g.source]),
    ),
    '',
  ];
}
