/**
 * Per-step time of the browser engine on each tfjs backend in Debian's
 * Chromium, and its overhead against a bare tfjs training loop on the same
 * backend, model and batch (samples/s ratio, both measured in the same page in
 * the same run, in ROUNDS engine blocks each between two bare blocks; the
 * median of the rounds' ratios is the figure). Then the contribute page's backend probe on the same model
 * and batch size, and which backend it picks, and why. Writes
 * bench/results/engine-overhead.json.
 *
 *   pnpm --filter @vtrain/web-worker-client bench
 *   STEPS=20 ROUNDS=3 BACKENDS=webgpu,webgl pnpm --filter @vtrain/web-worker-client bench
 *
 * The demo run's worker side (local SGD, 50 Adam steps of batch 64 per update) instead
 * of one SGD step per update, written to bench/results/engine-overhead-local-steps.json:
 *
 *   LOCAL_STEPS=50 OPTIMIZER=adam STEPS=100 pnpm --filter @vtrain/web-worker-client bench
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import type { ModelSpec } from '@vtrain/protocol';
import type {
  BenchOptimizer,
  Fixtures,
  ProbeOutcome,
  TrainingSpeed,
} from '../e2e/fixtures/fixtures.js';
import { launchChromium } from '../e2e/support/chromium.js';
import { provisionChromium } from '../e2e/support/provision-chromium.js';
import { startFixtureServer } from '../e2e/support/fixture-server.js';

const MODEL: Extract<ModelSpec, { kind: 'mlp' }> = { kind: 'mlp', hiddenUnits: [128] };
const BATCH_SIZE = 64;
const STEPS = Number(process.env.STEPS ?? 30);
const WARMUP = 3;
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const BACKENDS = (process.env.BACKENDS ?? 'webgpu,webgl,wasm,cpu').split(',');
const LOCAL_STEPS = Number(process.env.LOCAL_STEPS ?? 1);
const OPTIMIZER: BenchOptimizer =
  process.env.OPTIMIZER === 'adam'
    ? { kind: 'adam', learningRate: 0.005 }
    : { kind: 'sgd', learningRate: 0.1 };

provisionChromium();
const server = await startFixtureServer();
const browser = await launchChromium();
const results: TrainingSpeed[] = [];
/** The page's backend probe on the same model and batch (one run). */
const probes: ProbeOutcome[] = [];
try {
  for (const backend of BACKENDS) {
    // A fresh page per backend: no state (compiled programs, buffer pools) carries over.
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => 'vtrainFixtures' in window);
    process.stdout.write(
      `${backend}: ${ROUNDS} rounds of ${STEPS} timed steps of each loop (${WARMUP} warm-up)...\n`,
    );
    const result = await page.evaluate(
      ([backend, model, batchSize, steps, warmup, localSteps, optimizer, rounds]) =>
        (window as unknown as { vtrainFixtures: Fixtures }).vtrainFixtures.measureTrainingSpeed(
          backend,
          model,
          batchSize,
          steps,
          warmup,
          localSteps,
          optimizer,
          rounds,
        ),
      [backend, MODEL, BATCH_SIZE, STEPS, WARMUP, LOCAL_STEPS, OPTIMIZER, ROUNDS] as const,
    );
    results.push(result);
    await page.close();
  }
  const page = await browser.newPage();
  await page.goto(server.url);
  await page.waitForFunction(() => 'vtrainFixtures' in window);
  process.stdout.write("the contribute page's backend probe...\n");
  const probe = await page.evaluate(
    ([model, batchSize]) =>
      (window as unknown as { vtrainFixtures: Fixtures }).vtrainFixtures.probeBackends(
        model,
        batchSize,
      ),
    [MODEL, BATCH_SIZE] as const,
  );
  probes.push(probe);
  await page.close();
} finally {
  await browser.close();
  await server.close();
}

console.log(
  `\nMLP 784-128-10, batch ${BATCH_SIZE}, ${ROUNDS} rounds of ${STEPS} timed steps, ${LOCAL_STEPS} local ${OPTIMIZER.kind} steps per engine update, Chromium ${browser.version()}, medians per step`,
);
console.table(
  results.map((r) => ({
    backend: r.backend,
    'bare ms/step': r.bareMsPerStep.toFixed(1),
    'engine ms/step': r.engineMsPerStep.toFixed(1),
    'bare samples/s (before/after)': `${r.bareSamplesPerSecond.toFixed(0)} (${r.bareBeforeSamplesPerSecond.toFixed(0)}/${r.bareAfterSamplesPerSecond.toFixed(0)})`,
    'engine samples/s': r.engineSamplesPerSecond.toFixed(0),
    'engine / bare, median of rounds': r.ratio.toFixed(3),
    rounds: r.roundRatios.map((x) => x.toFixed(2)).join(' '),
    'tensors before/after': `${r.tensorsBefore}/${r.tensorsAfterBare}/${r.tensorsAfterEngine}`,
  })),
);
for (const probe of probes) {
  console.log(`\nThe probe picks ${probe.choice.name}: ${probe.choice.reason}`);
  console.table(
    probe.measurements.map((m) => ({
      backend: m.name,
      outcome: m.outcome,
      'ms/step': m.outcome === 'measured' ? m.msPerStep.toFixed(1) : '',
      'first step ms': m.outcome === 'failed' ? '' : m.firstStepMs.toFixed(0),
      reason: m.outcome === 'failed' ? m.reason : '',
    })),
  );
}
// Written as Prettier writes it, so the committed figures pass the repository's format check.
const resultsFile = fileURLToPath(
  new URL(
    LOCAL_STEPS === 1 && OPTIMIZER.kind === 'sgd'
      ? 'results/engine-overhead.json'
      : 'results/engine-overhead-local-steps.json',
    import.meta.url,
  ),
);
const json = JSON.stringify({
  model: MODEL,
  batchSize: BATCH_SIZE,
  localSteps: LOCAL_STEPS,
  optimizer: OPTIMIZER,
  steps: STEPS,
  rounds: ROUNDS,
  warmup: WARMUP,
  chromium: browser.version(),
  date: new Date().toISOString(),
  results,
  probe: probes[0],
});
await writeFile(
  resultsFile,
  await format(json, { ...(await resolveConfig(resultsFile)), filepath: resultsFile }),
);
