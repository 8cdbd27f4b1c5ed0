import type { HostileResult } from '../hostile/hostile-types.js';
import { provenanceText, type Recorded } from '../provenance.js';
import { pct, table } from './format.js';

/** Issue #14's table: each attack, what the coordinator did, the honest accuracy without and with it. */
export function hostileSection(r: Recorded<HostileResult> | undefined): string[] {
  const heading = '## Hostile volunteers';
  if (!r) return [heading, '', 'Not run in this suite (`--only hostile`).', ''];
  const spread = Math.max(...r.baselines) - Math.min(...r.baselines);
  const rows = r.rows.map((row) => {
    const delta = (row.with - row.without) * 100;
    return [
      row.attack,
      row.did.replaceAll('|', '/'),
      pct(row.without, 2),
      `${pct(row.with, 2)} (${delta >= 0 ? '+' : ''}${delta.toFixed(2)})${row.weightsFinite ? '' : ', weights NOT finite'}`,
    ];
  });
  const outside = r.rows.filter((row) => Math.abs(row.with - row.without) > 0.01);
  return [
    heading,
    '',
    `Measured at ${provenanceText(r.provenance)}. The honest run: ${r.parameters.config}; ${r.parameters.honestWorkers} honest worker${r.parameters.honestWorkers === 1 ? '' : 's'} (the real tfjs engine on the real coordinator), ${r.parameters.updatesPerWorker} accepted updates${r.parameters.honestWorkers === 1 ? '' : ' each'}, with and without each attack alongside; accuracy is the coordinator's final evaluation on the whole held-out set (${r.parameters.testExamples} examples). Runs without an attack (in process, as a process for the restart, in process again): ${r.baselines.map((b) => pct(b, 2)).join(' and ')} (${(spread * 100).toFixed(2)} points apart). The same scenarios, smaller, are asserted by apps/coordinator/src/integration/hostile-accuracy.test.ts (\`pnpm --filter @vtrain/coordinator test:hostile\`; not in \`pnpm test\` while a scenario hangs in about one run in three).`,
    '',
    table(['attack', 'what the coordinator did', 'honest accuracy without', 'with'], rows),
    '',
    outside.length === 0
      ? 'Every attack ends within 1 point of the run without it, with finite weights.'
      : `More than 1 point off: ${outside.map((row) => `${row.attack} (${pct(row.with, 2)} against ${pct(row.without, 2)})`).join('; ')}.`,
    '',
  ];
}
