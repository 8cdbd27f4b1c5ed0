/**
 * Measures candidate run configs with the peer bench's harness, for finding
 * the demo run's recipe (not part of `pnpm bench`):
 *
 *   node dist/peer/explore.js --label NAME --config '{"training":{...}}' [--reps 1] [--cap 120]
 *
 * `--config` is merged over `DEMO_RUN` one level deep (each top-level key it
 * names replaces DEMO_RUN's); the evaluation always covers the full test set.
 * Each candidate is appended as one JSON line to
 * `bench/results/tmp/peer-explore.jsonl` (git-ignored).
 */
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEMO_RUN } from '@vtrain/coordinator/demo-run';
import type { RunConfigInput } from '@vtrain/protocol';
import { DISCO, measureCandidate, socketIoBytes } from './peer-bench.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      label: { type: 'string', default: 'candidate' },
      config: { type: 'string', default: '{}' },
      reps: { type: 'string', default: '1' },
      cap: { type: 'string', default: '120' },
    },
  });
  const override = JSON.parse(values.config) as Partial<RunConfigInput>;
  const merged: RunConfigInput = { ...DEMO_RUN, ...override };
  const everyVersions = merged.evaluation?.everyVersions;
  const config: RunConfigInput = {
    ...merged,
    name: values.label.slice(0, 100),
    // No `testExamples`: the whole test set.
    evaluation: everyVersions === undefined ? {} : { everyVersions },
  };
  const candidate = await measureCandidate(config.name, config, Number(values.reps), {
    targetAccuracy: DISCO.accuracy,
    capSeconds: Number(values.cap),
    workers: 2,
    log: (line) => {
      console.log(line);
    },
  });
  const summary = candidate.repetitions.map((r) => {
    const s = socketIoBytes(r);
    return {
      secondsToTarget: r.secondsToTarget,
      bestAccuracy: r.bestAccuracy,
      socketIoUp: s.up,
      socketIoDown: s.down,
      httpDown: r.bytes.byConnection.http.down,
      coordinator: r.bytes.coordinator,
      samplesPerSecond: r.workers.map((w) => w.samplesPerSecond),
    };
  });
  const file = path.join(repoRoot, 'bench', 'results', 'tmp', 'peer-explore.jsonl');
  await mkdir(path.dirname(file), { recursive: true });
  await appendFile(
    file,
    `${JSON.stringify({ at: new Date().toISOString(), label: values.label, override, summary, candidate })}\n`,
  );
}

await main();
