import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LearningRates, ResultGroup } from '../experiments/grid.js';
import { formatted } from '../formatting.js';
import type { ExperimentResult } from '../results.js';
import { spread } from '../stats.js';
import { accuracyChart } from './figures.js';
import { bytes, pct, pctSpread, ratio, seconds, secondsSpread, table } from './format.js';
import {
  calibrationText,
  clusterLine,
  figure,
  group,
  testSetText,
  timeCell,
  type Output,
} from './parts.js';
import { conditionsSection, ratesText, schedulesSection } from './schedules-section.js';
import { lineChart } from './svg-chart.js';
import { summarise } from './summaries.js';
import { points, verdictSentence, type HybridVerdict } from './verdict.js';
import type { IngestResult } from '../ingest/ingest-types.js';
import type { OverheadResult } from '../overhead/overhead-types.js';
import type { RealtimeResult } from '../realtime/realtime-types.js';
import { peerSection } from './peer-section.js';
import { hostileSection } from './hostile-section.js';
import type { HostileResult } from '../hostile/hostile-types.js';
import { goalsSection, type GoalInputs } from './goals.js';
import { provenanceText, type Provenance, type Recorded } from '../provenance.js';

/** Everything the report is made of; any missing part gets a "not run" note. */
export interface ReportInputs extends GoalInputs {
  readonly suite: string;
  readonly command: string;
  readonly conditions?: Recorded<ExperimentResult>;
  /** Experiment 1c when merged into `conditions`: its provenance is printed too. */
  readonly conditionsAlso?: Recorded<ExperimentResult>;
  readonly scaling?: Recorded<ExperimentResult>;
  readonly compression?: Recorded<ExperimentResult>;
  readonly realtime?: Recorded<RealtimeResult>;
  readonly hostile?: Recorded<HostileResult>;
}

/** A section's lines with "Measured at …" under its heading (a section not run has no result to date). */
function dated(
  section: readonly string[],
  ...results: ({ readonly provenance?: Provenance } | undefined)[]
): string[] {
  const measured = results.filter((r) => r !== undefined);
  if (measured.length === 0) return [...section];
  const line = `Measured at ${measured.map((r) => provenanceText(r.provenance)).join('; and ')}.`;
  return [...section.slice(0, 2), line, '', ...section.slice(2)];
}

async function sparsificationSection(out: Output, r: ExperimentResult): Promise<string[]> {
  const p = r.parameters as {
    cluster: Record<string, unknown>;
    budgetMs: number;
    seeds: number[];
    maxStaleness: number;
  };
  const dense = group(r, 'd1');
  const denseUp = dense ? spread(dense.runs.map((x) => x.bytesUp)).mean : Number.NaN;
  const rows = r.groups.map((g) => {
    const s = summarise(g);
    return [
      s.label,
      pctSpread(s.accuracy),
      timeCell(s, 0.9),
      bytes(s.bytesUp.mean),
      bytes(s.bytesUpPerUpdate),
      ratio(denseUp / s.bytesUp.mean),
      Math.round(s.updatesApplied.mean).toString(),
      `${s.stalenessP50} / ${s.stalenessP90}`,
    ];
  });
  return [
    '## 2. Sparsification against staleness',
    '',
    `Asynchronous SGD, ${clusterLine(p.cluster)}; staleness bound ${p.maxStaleness}; other training parameters as in experiment 1 except the density and error feedback (EF) named per row; budget ${seconds(p.budgetMs)}; seeds ${p.seeds.join(', ')}; ${testSetText(r.parameters)}. At 100% density error feedback has nothing to keep, so it is one row.`,
    '',
    calibrationText(r.parameters),
    '',
    table(
      [
        'density',
        'test accuracy at budget',
        'time to 90%',
        'bytes uploaded (mean per run)',
        'bytes per update',
        'upload vs dense',
        'updates applied',
        'staleness p50 / p90',
      ],
      rows,
    ),
    '',
    await figure(
      out,
      'exp2-sparsification.svg',
      accuracyChart(r.groups, 'Experiment 2: density and error feedback, async, 16 workers', 0.5),
    ),
    '',
  ];
}

async function scalingSection(
  out: Output,
  r: ExperimentResult,
): Promise<{ lines: string[]; efficiencyAt8?: number }> {
  const target = Number(r.parameters.target);
  const base = r.groups.find((g) => g.params.workers === 1);
  const t1 = base ? spread(base.runs.map((x) => x.endedAt)).mean : Number.NaN;
  let efficiencyAt8: number | undefined;
  const points: [number, number][] = [];
  const ideal: [number, number][] = [];
  const rows = r.groups.map((g) => {
    const n = Number(g.params.workers);
    const reached = g.runs.filter((x) => x.finalAccuracy >= target);
    const time = spread(reached.map((x) => x.endedAt));
    const speedup = t1 / time.mean;
    const efficiency = speedup / n;
    if (n === 8) efficiencyAt8 = efficiency;
    if (reached.length > 0) points.push([n, speedup]);
    ideal.push([n, n]);
    const s = summarise(g);
    return [
      String(n),
      reached.length === g.runs.length
        ? secondsSpread(time)
        : `${secondsSpread(time)} (${reached.length}/${g.runs.length} reached)`,
      ratio(speedup),
      pct(efficiency, 0),
      Math.round(s.updatesApplied.mean).toString(),
      `${s.stalenessP50} / ${s.stalenessP90}`,
      String(s.rejected),
    ];
  });
  const svg = lineChart(
    [
      { name: 'measured speed-up', points },
      { name: 'ideal (linear)', points: ideal, dashed: true },
    ],
    {
      title: `Experiment 3: speed-up in time to ${target * 100}%`,
      xLabel: 'workers (log scale)',
      yLabel: 'T(1) / T(N)',
      logX: true,
      yMin: 0,
    },
  );
  const p = r.parameters as {
    cluster: Record<string, unknown>;
    schedule: string;
    seeds: number[];
    budgetMs: string;
  };
  return {
    efficiencyAt8,
    lines: [
      '## 3. Scaling',
      '',
      `${p.schedule}; equal-speed workers (${clusterLine({ ...p.cluster, workers: 'N' })}); other parameters as in experiment 1; each run stops at the first evaluation (every 1 s of virtual time) at or above ${target * 100}% (budget cap ${p.budgetMs} of virtual time); seeds ${p.seeds.join(', ')}; ${testSetText(r.parameters)}. Speed-up = T(1) / T(N), scaling efficiency = speed-up / N.`,
      '',
      calibrationText(r.parameters),
      '',
      table(
        [
          'workers',
          `time to ${target * 100}%`,
          'speed-up',
          'efficiency',
          'updates applied',
          'staleness p50 / p90',
          'rejected (all seeds)',
        ],
        rows,
      ),
      '',
      await figure(out, 'exp3-scaling.svg', svg),
      '',
    ],
  };
}

function compressionSection(
  schedules: ExperimentResult | undefined,
  compression: ExperimentResult | undefined,
): string[] {
  const lines = ['## 4. Communication', ''];
  if (schedules) {
    const rows = schedules.groups.map((g) => {
      const s = summarise(g);
      return [
        s.label,
        bytes(s.bytesUpPerUpdate),
        ratio(s.denseUpdateBytes / s.bytesUpPerUpdate),
        bytes(s.bytesDownPerReply),
        ratio(s.denseUpdateBytes / s.bytesDownPerReply),
        bytes(s.bytesUp.mean + s.bytesDown.mean),
      ];
    });
    lines.push(
      'Bytes per message in experiment 1 (1% top-k with error feedback; replies are sparse patches of new values, or the dense weights when a patch would not be smaller), against dense float32 (4 bytes per parameter). Payload bytes of the codecs; socket.io framing is not counted.',
      '',
      table(
        [
          'schedule',
          'up per update',
          'dense / up',
          'down per weights reply',
          'dense / down',
          'total bytes per run (up + down)',
        ],
        rows,
      ),
      '',
    );
  }
  if (schedules && compression) {
    const rows = compression.groups.map((g) => {
      const key = String(g.params.schedule);
      const sparse = group(schedules, key);
      const d = summarise(g);
      const s = sparse ? summarise(sparse) : undefined;
      return [
        key,
        ratesText(g.params.rates as LearningRates | undefined),
        pctSpread(d.accuracy),
        s ? pctSpread(s.accuracy) : 'n/a',
        s ? points(s.accuracy.mean - d.accuracy.mean) : 'n/a',
        bytes(d.bytesUp.mean + d.bytesDown.mean),
        s ? bytes(s.bytesUp.mean + s.bytesDown.mean) : 'n/a',
      ];
    });
    lines.push(
      `Accuracy cost of compression at the same budget and cluster, each schedule at experiment 1's learning rates: ${compression.parameters.wire === 'raw-f32' ? 'the dense baseline sends every update as the raw float32 step and every weights reply as the raw float32 weights, 4 bytes per parameter each way, with no sparse codec (as a system without sparsification would)' : 'the dense runs go through the sparse codec at density 1 (an older run, not a raw float32 baseline)'}; no error feedback; the 1% runs are experiment 1's; ${testSetText(compression.parameters)}:`,
      '',
      table(
        [
          'schedule',
          'dense f32: learning rates',
          'dense f32: accuracy',
          '1% top-k + EF: accuracy',
          '1% − dense',
          'dense: bytes per run',
          '1%: bytes per run',
        ],
        rows,
      ),
      '',
    );
  }
  return lines;
}

function ingestSection(r: IngestResult | undefined): string[] {
  if (!r) return ['## 5. Coordinator ingest', '', 'Not run in this suite.', ''];
  const row = (name: string, m: IngestResult['bare']): string[] => [
    name,
    m.updatesPerSecond.toFixed(0),
    bytes(m.rssBytes),
    // RSS moves by more than a few KB between samples: a negative growth is noise around zero.
    m.memoryPerWorkerBytes < 0 ? 'about 0 (RSS noise)' : bytes(m.memoryPerWorkerBytes),
  ];
  const rows = [
    row(
      'coordinator (real run engine, validation, apply, weights patch in each ack)',
      r.coordinator,
    ),
    row(
      'coordinator, distinct index set per client (acks carry top-B patches of a spread difference)',
      r.distinctIndices,
    ),
    row('bare socket.io server, receive only', r.bare),
    ...(r.bareWithPatch
      ? [row('bare socket.io server, acks carrying a patch-sized payload', r.bareWithPatch)]
      : []),
  ];
  const msPer = (rate: number): number => 1000 / rate;
  const engineMs = r.engineCost.submitMs + r.engineCost.patchMs;
  const budget: string[] = r.bareWithPatch
    ? [
        `Where an update's time goes, from these rates (one server thread, so time per update is 1 / rate): the coordinator spends ${msPer(r.coordinator.updatesPerSecond).toFixed(2)} ms per applied update; a bare server that receives the same update and answers with a payload the size of the coordinator's patch spends ${msPer(r.bareWithPatch.updatesPerSecond).toFixed(2)} ms (socket.io framing and the kernel's copies, both ways). The other ${(msPer(r.coordinator.updatesPerSecond) - msPer(r.bareWithPatch.updatesPerSecond)).toFixed(2)} ms are the coordinator's own work: decoding and validating 1% of a million coordinates, the run engine (${engineMs.toFixed(2)} ms alone: schedule, sparse mean, SGD step on the stored coordinates, and recording the changed coordinates for later patches), reading the changed weights and encoding the patch, plus the garbage those allocations make.`,
        '',
      ]
    : [];
  return [
    '## 5. Coordinator ingest',
    '',
    `${r.clients} socket.io clients in ${r.processes} separate client processes (${r.clients / r.processes} per process) send sparse updates of a ${r.parameterCount.toLocaleString('en-US')}-parameter model at ${r.density * 100}% density (${bytes(r.payloadBytes)} per update, f32) as fast as their acks allow, for ${r.seconds} s per measurement; the same pre-encoded payloads go to the real coordinator (asynchronous run, the whole receive-validate-decode-apply-answer path) and to bare socket.io servers that only acknowledge them. ${r.notes}`,
    '',
    table(['server', 'updates/s', 'server RSS', 'memory per connected worker'], rows),
    '',
    `The run engine alone (no sockets, same model and payload, 64 workers, updates based 64 versions back, after a JIT warm-up): ${r.engineCost.submitMs.toFixed(2)} ms per \`submit\` and ${r.engineCost.patchMs.toFixed(2)} ms to list the ack's patch coordinates, i.e. at most ${(1000 / engineMs).toFixed(0)} updates/s from the engine itself on this machine.${r.engineCostDistinct ? ` With a distinct index set per worker: ${r.engineCostDistinct.submitMs.toFixed(2)} ms per \`submit\` and ${r.engineCostDistinct.patchMs.toFixed(2)} ms per ack patch (at most ${(1000 / (r.engineCostDistinct.submitMs + r.engineCostDistinct.patchMs)).toFixed(0)} updates/s); the distinct-indices row reaches ${pct(r.distinctIndices.updatesPerSecond / r.bare.updatesPerSecond, 0)} of the receive-only server.` : ''}`,
    '',
    ...budget,
    `Ratio coordinator / bare (receive only): **${pct(r.ratio, 0)}**${r.ratioToBareWithPatch === undefined ? '' : `; coordinator / bare answering with a patch-sized payload: **${pct(r.ratioToBareWithPatch, 0)}**`}. Target: at least 1,000 updates/s and at least 50% of the receive-only server: ${r.coordinator.updatesPerSecond >= 1000 && r.ratio >= 0.5 ? 'met' : 'not met'}.`,
    '',
  ];
}

/** When the bare loop's two runs disagree, the machine's load moved during the run: say so. */
function spreadWarning(r: OverheadResult): string[] {
  const before = r.bareBeforeSamplesPerSecond;
  const after = r.bareAfterSamplesPerSecond;
  if (before === undefined || after === undefined) return [];
  const spread = Math.abs(before - after) / Math.min(before, after);
  if (spread < 0.2) return [];
  return [
    `The bare loop's two runs differ by ${pct(spread, 0)}: the load on the machine moved during the run, so every ratio below is uncertain by about that much.`,
    '',
  ];
}

function overheadSection(r: OverheadResult | undefined): string[] {
  if (!r) return ['## 6. Worker overhead', '', 'Not run in this suite.', ''];
  return [
    '## 6. Worker overhead',
    '',
    r.description,
    '',
    table(
      ['loop', 'samples/s'],
      [
        [
          'bare tfjs loop (gradient + SGD step, same backend and model)',
          r.bareSamplesPerSecond.toFixed(0),
        ],
        ...(r.bareBeforeSamplesPerSecond === undefined || r.bareAfterSamplesPerSecond === undefined
          ? []
          : [
              ['bare loop, before the worker', r.bareBeforeSamplesPerSecond.toFixed(0)],
              ['bare loop, after the worker', r.bareAfterSamplesPerSecond.toFixed(0)],
            ]),
        ['headless worker against a real coordinator', r.workerSamplesPerSecond.toFixed(0)],
        ...(r.localStepsWorkerSamplesPerSecond === undefined || r.localSteps === undefined
          ? []
          : [
              [
                `the same, local SGD with ${r.localSteps} steps per update`,
                r.localStepsWorkerSamplesPerSecond.toFixed(0),
              ],
            ]),
        ...(r.demo === undefined
          ? []
          : [
              [
                `bare tfjs loop for ${r.demo.label} (before / after)`,
                `${r.demo.bareSamplesPerSecond.toFixed(0)} (${r.demo.bareBeforeSamplesPerSecond.toFixed(0)} / ${r.demo.bareAfterSamplesPerSecond.toFixed(0)})`,
              ],
              [`headless worker on ${r.demo.label}`, r.demo.workerSamplesPerSecond.toFixed(0)],
              ...(r.demo.baselineWorkerSamplesPerSecond === undefined
                ? []
                : [
                    [
                      `the worker of ${r.baselineLabel ?? 'another build'}, same configuration`,
                      r.demo.baselineWorkerSamplesPerSecond.toFixed(0),
                    ],
                  ]),
            ]),
        ...(r.baselineWorkerSamplesPerSecond === undefined
          ? []
          : [
              [
                `the worker of ${r.baselineLabel ?? 'another build'}, same run`,
                r.baselineWorkerSamplesPerSecond.toFixed(0),
              ],
            ]),
      ],
    ),
    '',
    ...spreadWarning(r),
    ...(r.demo === undefined
      ? []
      : [
          `Worker / bare on ${r.demo.label}: **${pct(r.demo.ratio, 0)}**${r.demo.baselineRatio === undefined ? '' : ` (${r.baselineLabel ?? 'another build'}: ${pct(r.demo.baselineRatio, 0)})`}. Target: at least 85%: ${r.demo.ratio >= 0.85 ? 'met' : 'not met'}.`,
          '',
        ]),
    `Worker / bare on the asynchronous 1% top-k run, one step per update: **${pct(r.ratio, 0)}**${r.baselineRatio === undefined ? '' : ` (${r.baselineLabel ?? 'another build'}: ${pct(r.baselineRatio, 0)})`}${r.localStepsRatio === undefined ? '' : `; with ${r.localSteps} local steps per update: ${pct(r.localStepsRatio, 0)}`}. Target: at least 85%: ${r.ratio >= 0.85 ? 'met' : 'not met'}.`,
    '',
  ];
}

export async function writeReport(inputs: ReportInputs, out: Output): Promise<void> {
  const lines: string[] = [
    '# Convergence benchmarks',
    '',
    `Generated by \`${inputs.command}\` (suite: ${inputs.suite}) from the JSON in \`bench/results/\`; each section says the commit, date and machine its figures were measured on, read from its JSON. Do not edit by hand: rerun the bench.`,
    '',
    ...goalsSection(inputs),
    "**How the simulated cluster works.** N virtual workers run on a virtual clock (an event queue). Each is a real `TrainingEngine` from `@vtrain/worker` holding its own copy of the weights (stale ones in asynchronous modes): real tfjs gradients on its IID MNIST shard (wasm backend), local steps, top-k with error feedback from `@vtrain/optimizer`, the sparse codec of `@vtrain/protocol`. The coordinator side is the real `RunEngine` of `apps/coordinator` (the optimizer's schedule state machines, aggregation, staleness damping, server optimizer, patch history). Only time is simulated: compute time from each worker's speed, jitter and stalls (the fastest worker's step calibrated from the measured wasm loop); transfer time = latency + bytes / bandwidth for every update and weights reply, each message also crossing the coordinator's one link shared by every worker (first come, first served); the coordinator's own time per update (calibrated from the run engine's measured cost), one update at a time; departures and re-joins. Gradients are computed one at a time in event order, so results are deterministic per seed and independent of this machine's load.",
    '',
    "**Model.** Every experiment trains the MNIST MLP. The small CNN is not run: tfjs's wasm backend has no `Conv2DBackpropFilter` kernel, and on Node's pure-JS cpu backend one batch-64 gradient of a 6k-parameter two-convolution CNN takes about 9.7 s on this machine (measured outside this bench, see docs/architecture.md#tfjs-backends-and-their-speed), so one schedule cell of experiment 1 (about 2,000 gradients) would take over five hours.",
    '',
  ];
  let verdicts: { condition: string; verdict: HybridVerdict }[] = [];
  let efficiencyAt8: number | undefined;
  if (inputs.schedules) {
    const section = await schedulesSection(out, inputs.schedules);
    lines.push(...dated(section.lines, inputs.schedules));
  }
  if (inputs.conditions) {
    const c = await conditionsSection(out, inputs.conditions, inputs.schedules);
    lines.push(...dated(c.lines, inputs.conditions, inputs.conditionsAlso));
    verdicts = c.verdicts;
  }
  if (inputs.sparsification) {
    const section = await sparsificationSection(out, inputs.sparsification);
    lines.push(...dated(section, inputs.sparsification));
  }
  if (inputs.scaling) {
    const s = await scalingSection(out, inputs.scaling);
    lines.push(...dated(s.lines, inputs.scaling));
    efficiencyAt8 = s.efficiencyAt8;
  }
  lines.push(
    ...dated(compressionSection(inputs.schedules, inputs.compression), inputs.compression),
  );
  lines.push(...dated(ingestSection(inputs.ingest), inputs.ingest));
  lines.push(...dated(overheadSection(inputs.overhead), inputs.overhead));
  lines.push(...dated(realtimeSection(inputs.realtime, inputs.schedules), inputs.realtime));
  lines.push(...peerSection(inputs.peer));
  lines.push(...hostileSection(inputs.hostile));
  lines.push(...discussion(inputs, verdicts));
  lines.push(...headline(inputs, efficiencyAt8));
  await mkdir(path.dirname(out.markdownFile), { recursive: true });
  await writeFile(out.markdownFile, await formatted(out.markdownFile, lines.join('\n')));
}

/** Computed statements about experiment 2: sparsification, error feedback and damping. */
function sparsificationFindings(r: ExperimentResult | undefined): string[] {
  if (!r) return [];
  const acc = (key: string): number | undefined => {
    const g = group(r, key);
    return g ? summarise(g).accuracy.mean : undefined;
  };
  const lines: string[] = [];
  const dense = acc('d1');
  const sparse = acc('d0.01+ef');
  if (dense !== undefined && sparse !== undefined) {
    lines.push(
      `- Sparsification against staleness (experiment 2): 1% top-k with error feedback ends at ${pct(sparse, 2)} against ${pct(dense, 2)} for dense asynchronous SGD (${points(sparse - dense)}); sparsification ${sparse > dense ? 'helps' : 'does not help'} under this staleness, ${sparse > dense ? 'as Candela et al. report' : 'contrary to what Candela et al. report'}.`,
    );
  }
  const ef = [0.1, 0.01, 0.001]
    .map((d) => {
      const on = acc(`d${d}+ef`);
      const off = acc(`d${d}-ef`);
      return on !== undefined && off !== undefined ? `${d * 100}%: ${points(on - off)}` : undefined;
    })
    .filter((x): x is string => x !== undefined);
  if (ef.length > 0) lines.push(`- Error feedback on minus off, by density: ${ef.join('; ')}.`);
  const denseDamped = acc('d1+damped');
  const sparseDamped = acc('d0.01+ef+damped');
  if (dense !== undefined && denseDamped !== undefined && sparse !== undefined) {
    lines.push(
      `- Staleness damping 1/(1+s): dense ${pct(dense, 2)} → ${pct(denseDamped, 2)}; 1% + EF ${pct(sparse, 2)} → ${sparseDamped === undefined ? 'n/a' : pct(sparseDamped, 2)}. Against damping, sparsification ${sparse > denseDamped ? 'wins' : 'loses'} (${points(sparse - denseDamped)} for 1% + EF over damped dense).`,
    );
  }
  const sparseRows = r.groups
    .filter((g) => !g.key.startsWith('d1'))
    .map((g) => ({ label: g.label, acc: summarise(g).accuracy.mean }))
    .sort((a, b) => b.acc - a.acc);
  const best = sparseRows.at(0);
  if (best && denseDamped !== undefined) {
    lines.push(
      `- The best sparsified row is ${best.label} at ${pct(best.acc, 2)}, ${points(best.acc - denseDamped)} against damped dense SGD. A plausible mechanism (not isolated by these runs): with top-k, each update moves only k coordinates, so a stale update perturbs less of the model, and error feedback delivers the rest later instead of dropping it.`,
    );
  }
  return lines;
}

function realtimeSection(
  r: RealtimeResult | undefined,
  schedules: ExperimentResult | undefined,
): string[] {
  if (!r) return ['## 7. Real-time mode', '', 'Not run in this suite.', ''];
  const rows = r.runs.map((run) => {
    const simulated = schedules ? group(schedules, run.schedule) : undefined;
    return [
      run.schedule,
      run.finalAccuracy === null ? 'n/a' : pct(run.finalAccuracy, 2),
      String(run.versions),
      String(run.updatesApplied),
      simulated ? pctSpread(summarise(simulated).accuracy) : 'n/a',
    ];
  });
  const order = (values: { key: string; acc: number }[]): string =>
    [...values]
      .sort((a, b) => b.acc - a.acc)
      .map((v) => v.key)
      .join(' > ');
  const real = order(r.runs.map((run) => ({ key: run.schedule, acc: run.finalAccuracy ?? -1 })));
  const lines = [
    '## 7. Real-time mode',
    '',
    r.description,
    '',
    table(
      [
        'schedule',
        'final test accuracy (real time)',
        'versions',
        'updates applied',
        'simulated, experiment 1 (different budget)',
      ],
      rows,
    ),
    '',
    `Ordering in real time: ${real}.`,
  ];
  if (schedules) {
    const simulated = order(
      r.runs
        .map((run) => group(schedules, run.schedule))
        .filter((g): g is ResultGroup => g !== undefined)
        .map((g) => ({ key: g.key, acc: summarise(g).accuracy.mean })),
    );
    lines.push(
      `Ordering in the simulation (experiment 1): ${simulated}. ${real === simulated ? 'They agree.' : 'They differ.'}`,
    );
  }
  lines.push('');
  return lines;
}

/** Computed statements about experiment 3. */
function scalingFindings(r: ExperimentResult | undefined): string[] {
  if (!r) return [];
  const target = Number(r.parameters.target);
  const missed = r.groups
    .filter((g) => g.runs.every((x) => x.finalAccuracy < target))
    .map((g) => {
      const s = summarise(g);
      return `${String(g.params.workers)} (staleness p50 ${s.stalenessP50}, final ${pct(s.accuracy.mean, 1)})`;
    });
  if (missed.length === 0) return [];
  return [
    `- Scaling (experiment 3): asynchronous SGD at this learning rate did not reach ${target * 100}% within its cap with ${missed.join(', ')} workers: at that staleness plain asynchronous updates at this learning rate stop converging in these runs, the regime where the hybrid (experiment 1c) and sparser updates or damping (experiment 2) help.`,
  ];
}

function discussion(
  inputs: ReportInputs,
  verdicts: readonly { condition: string; verdict: HybridVerdict }[],
): string[] {
  const lines = ['## Discussion: where the hybrid wins and where it does not', ''];
  const r = inputs.schedules;
  if (r) {
    const ranked = r.groups
      .map((g) => ({ label: g.label, acc: summarise(g).accuracy }))
      .sort((a, b) => b.acc.mean - a.acc.mean);
    lines.push(
      `- Ranking at the budget in experiment 1 (mean over seeds): ${ranked.map((x) => `${x.label} ${pct(x.acc.mean, 2)}`).join(' > ')}.`,
    );
  }
  for (const { condition, verdict } of verdicts) {
    lines.push(`- Condition "${condition}": ${verdictSentence(verdict)}`);
  }
  if (verdicts.length > 0) {
    const wins = verdicts.filter((v) => v.verdict.beatsBothClearly).map((v) => v.condition);
    const not = verdicts.filter((v) => !v.verdict.beatsBothClearly).map((v) => v.condition);
    lines.push(
      `- **In short:** the hybrid beats both pure modes (both 95% intervals above 0) in ${wins.length === 0 ? 'none of the conditions measured' : wins.map((c) => `"${c}"`).join(', ')}; it does not in ${not.length === 0 ? 'none' : not.map((c) => `"${c}"`).join(', ')}.`,
    );
  }
  lines.push(...sparsificationFindings(inputs.sparsification));
  lines.push(...scalingFindings(inputs.scaling));
  lines.push(
    '- Why the pure modes differ: a synchronous round of N updates makes one step of their mean, so per unit of time it makes about N times fewer, less noisy steps than asynchronous SGD, and each round waits for the slowest worker (or its deadline after a stall); a larger server step (the linear scaling rule) buys back part of that. Asynchronous SGD pays with staleness (p50 / p90 in the tables). The hybrid starts asynchronous and ends synchronous; whether that beats both at the budget depends on how much the late averaging helps against how much the barrier costs, which is what experiment 1b varies.',
    ...(r?.tuning
      ? [
          '- Each schedule ran at its own tuned learning rates (section 1); conditions 1b and 1c and the dense baseline reuse them untuned, so a condition far from the default may favour a schedule whose rates happen to suit it.',
        ]
      : [
          '- The learning rate is the same for every schedule (no linear scaling of the synchronous step with N); a tuned per-schedule learning rate could change the ranking, which these runs do not test.',
        ]),
    '',
  );
  return lines;
}

function headline(inputs: ReportInputs, efficiencyAt8: number | undefined): string[] {
  const lines = ['## Closing note: headline numbers', ''];
  const r = inputs.schedules;
  if (r) {
    lines.push(
      `- Test accuracy at the ${seconds(Number(r.parameters.budgetMs))} budget, 8 heterogeneous workers (mean ± std over ${(r.parameters.seeds as number[]).length} seeds): ` +
        r.groups
          .map(
            (g) =>
              `${g.label} ${pctSpread(summarise(g).accuracy)}${g.params.rates ? ` (${ratesText(g.params.rates as LearningRates)})` : ''}`,
          )
          .join('; ') +
        '.',
    );
    const async = group(r, 'async');
    if (async) {
      const s = summarise(async);
      lines.push(
        `- Bytes: an asynchronous 1% update is ${bytes(s.bytesUpPerUpdate)} against ${bytes(s.denseUpdateBytes)} dense float32 (${ratio(s.denseUpdateBytes / s.bytesUpPerUpdate)} smaller); its weights replies average ${bytes(s.bytesDownPerReply)} (${ratio(s.denseUpdateBytes / s.bytesDownPerReply)} smaller than dense).`,
      );
    }
  }
  if (efficiencyAt8 !== undefined) {
    lines.push(
      `- Scaling efficiency at 8 workers (asynchronous, time to 90%): ${pct(efficiencyAt8, 0)}.`,
    );
  }
  if (inputs.ingest) {
    lines.push(
      `- Coordinator ingest: ${inputs.ingest.coordinator.updatesPerSecond.toFixed(0)} sparse updates/s from ${inputs.ingest.clients} clients (1M parameters, 1%), ${pct(inputs.ingest.ratio, 0)} of the bare socket.io server's ${inputs.ingest.bare.updatesPerSecond.toFixed(0)}/s.`,
    );
  }
  if (inputs.overhead) {
    lines.push(
      `- Worker overhead: the headless worker reaches ${inputs.overhead.demo === undefined ? '' : `${pct(inputs.overhead.demo.ratio, 0)} of a bare tfjs loop's samples/s on the demo run's configuration (${inputs.overhead.demo.localSteps} local steps per update), and `}${pct(inputs.overhead.ratio, 0)} on an asynchronous run of one step per update.`,
    );
  }
  lines.push('');
  return lines;
}
