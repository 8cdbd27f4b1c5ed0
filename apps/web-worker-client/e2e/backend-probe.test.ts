import { mkdir } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/chromium.js';
import { startTestCoordinator, waitFor, type TestCoordinator } from './support/coordinator.js';

/*
 * The contribute page picks its fastest backend. Here Chromium has no GPU:
 * its WebGPU adapter is SwiftShader, a CPU implementation that takes about
 * ten times as long per step of this MLP as tfjs's wasm backend
 * (bench/results/engine-overhead.json: 114 vs 9.6 ms at batch 64). The page
 * must measure that, train on wasm, and say why.
 */

/** Screenshots of this test, kept for people to look at (git-ignored). */
const ARTIFACTS = new URL('../test-results/', import.meta.url);

let coordinator: TestCoordinator;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  coordinator = await startTestCoordinator();
  // The model and batch size of the engine-overhead bench.
  await coordinator.createRun({
    name: 'e2e probe',
    seed: 1,
    model: { kind: 'mlp', hiddenUnits: [128] },
    dataset: { name: 'synthetic', shards: 2 },
    training: { batchSize: 64, workerOptimizer: { kind: 'sgd', learningRate: 0.1 } },
    compression: { density: 0.05, errorFeedback: true },
    schedule: { kind: 'async' },
    evaluation: { everyVersions: 50, testExamples: 200 },
    stop: { maxSeconds: 900 },
  });
  browser = await launchChromium();
  context = await browser.newContext();
  page = await context.newPage();
  page.on('pageerror', (error) => {
    console.error('contribute page error:', error);
  });
});

afterAll(async () => {
  await browser.close();
  await coordinator.stop();
});

/** The probe panel once it shows a decision of `source`; returns the chosen backend. */
function probeDecided(tab: Page, source: 'probed' | 'cached' | 'forced'): Promise<string> {
  return waitFor(`a ${source} backend choice`, async () => {
    const panel = tab.getByTestId('backend-probe');
    if ((await panel.count()) === 0 || (await panel.getAttribute('data-source')) !== source) {
      return undefined;
    }
    return (await panel.getAttribute('data-choice')) ?? undefined;
  });
}

async function probeRows(tab: Page) {
  return tab.getByTestId('probe-row').evaluateAll((rows) =>
    rows.map((row) => ({
      backend: row.getAttribute('data-backend'),
      outcome: row.getAttribute('data-outcome'),
      ms: row.getAttribute('data-ms') === null ? undefined : Number(row.getAttribute('data-ms')),
      text: row.textContent,
    })),
  );
}

async function acceptedUpdates(tab: Page): Promise<number> {
  const value = await tab.getByTestId('updates-accepted').getAttribute('data-value');
  return value === null || value === '' ? 0 : Number(value);
}

describe('the contribute page picks its fastest backend', () => {
  it('with WebGPU on SwiftShader, measures every backend, trains on wasm and says why', async () => {
    await page.goto(coordinator.url);
    await page.getByTestId('contribute-toggle').click();
    // The panel says it is measuring before it decides.
    await waitFor('the probe to start', async () =>
      (await page.getByTestId('backend-probe').count()) > 0 ? true : undefined,
    );
    const choice = await probeDecided(page, 'probed');
    const rows = await probeRows(page);
    const reason = await page.getByTestId('backend-reason').textContent();
    console.log('probe on SwiftShader WebGPU, MLP 784-128-10 at batch 64:', rows, reason);

    expect(rows.map((r) => r.backend)).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    const wasm = rows.find((r) => r.backend === 'wasm');
    const webgpu = rows.find((r) => r.backend === 'webgpu');
    expect(wasm?.outcome).toBe('measured');
    expect(wasm?.ms).toBeGreaterThan(0);
    // WebGPU ran (its first step is mostly shader compilation; a later one is timed) and lost.
    expect(webgpu?.outcome).toBe('measured');
    expect(webgpu?.ms).toBeGreaterThan(wasm?.ms ?? Number.POSITIVE_INFINITY);
    expect(choice).toBe('wasm');
    expect(await page.getByTestId('backend').getAttribute('data-backend')).toBe('wasm');
    expect(reason).toMatch(
      /WebGPU is a software adapter here \(SwiftShader\); wasm is faster \([\d.]+ vs [\d.]+ ms per step\)/,
    );

    // It trains on what it chose: updates reach the coordinator.
    await waitFor('updates accepted on wasm', async () =>
      (await acceptedUpdates(page)) >= 2 ? true : undefined,
    );
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({
      path: new URL('backend-probe.png', ARTIFACTS).pathname,
      fullPage: true,
    });
  });

  it('remembers the probe: the next visit trains on wasm without measuring again', async () => {
    await page.reload();
    expect(await probeDecided(page, 'cached')).toBe('wasm');
    expect(await page.getByTestId('backend').getAttribute('data-backend')).toBe('wasm');
    expect(await page.getByTestId('backend-probe').textContent()).toContain('earlier visit');
    await waitFor('updates accepted after the reload', async () =>
      (await acceptedUpdates(page)) >= 1 ? true : undefined,
    );
  });

  it('measures again on request', async () => {
    await page.getByTestId('measure-again').click();
    expect(await probeDecided(page, 'probed')).toBe('wasm');
    const rows = await probeRows(page);
    expect(rows.find((r) => r.backend === 'wasm')?.outcome).toBe('measured');
  });

  it('?backend=webgpu still forces WebGPU, with no probe', async () => {
    const forced = await context.newPage();
    await forced.goto(`${coordinator.url}/?backend=webgpu`);
    // Contributing is remembered from the first tab (same storage).
    expect(await probeDecided(forced, 'forced')).toBe('webgpu');
    expect(await forced.getByTestId('backend').getAttribute('data-backend')).toBe('webgpu');
    expect(await forced.getByTestId('backend-reason').textContent()).toContain('?backend=webgpu');
    expect(await forced.getByTestId('probe-row').count()).toBe(0);
    await waitFor('updates accepted on webgpu', async () =>
      (await acceptedUpdates(forced)) >= 1 ? true : undefined,
    );
    await forced.close();
  });

  it('a bad ?backend= value is reported and the page measures instead', async () => {
    const bad = await context.newPage();
    await bad.goto(`${coordinator.url}/?backend=tpu`);
    expect(await bad.getByTestId('backend-override-error').textContent()).toContain(
      '?backend=tpu is not one of webgpu, webgl, wasm, cpu',
    );
    expect(await probeDecided(bad, 'cached')).toBe('wasm');
    await bad.close();
  });
});
