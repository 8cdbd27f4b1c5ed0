import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/chromium.js';
import { startTestCoordinator, waitFor, type TestCoordinator } from './support/coordinator.js';

/** Screenshots and downloads of this test, kept for people to look at (git-ignored). */
const ARTIFACTS = new URL('../test-results/', import.meta.url);

let coordinator: TestCoordinator;
let browser: Browser;
let runId: string;
const contexts: BrowserContext[] = [];
const tabs: Page[] = [];

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  coordinator = await startTestCoordinator();
  // A small MLP so the SwiftShader WebGPU adapter (no GPU here) takes many steps in a test.
  runId = await coordinator.createRun({
    name: 'e2e small MLP',
    seed: 1,
    model: { kind: 'mlp', hiddenUnits: [16] },
    dataset: { name: 'mnist', shards: 4 },
    training: {
      batchSize: 16,
      workerOptimizer: { kind: 'sgd', learningRate: 0.1 },
      serverOptimizer: { kind: 'sgd', learningRate: 1 },
    },
    compression: { density: 0.05, errorFeedback: true, valueFormat: 'f32' },
    schedule: { kind: 'async' },
    evaluation: { everyVersions: 5, testExamples: 500 },
    stop: { maxSeconds: 900 },
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser.close();
  await coordinator.stop();
});

/** The i-th contribute tab opened by the first test. */
function tabAt(i: number): Page {
  const page = tabs[i];
  if (page === undefined) throw new Error(`contribute tab ${i} was not opened`);
  return page;
}

async function numberAt(page: Page, testId: string): Promise<number | undefined> {
  const value = await page.getByTestId(testId).getAttribute('data-value');
  return value === null || value === '' ? undefined : Number(value);
}

/** Waits until the tab's numeric `testId` reaches at least `min`; returns it. */
function waitForCount(page: Page, testId: string, min: number, timeoutMs?: number) {
  return waitFor(
    `${testId} >= ${min}`,
    async () => {
      const value = await numberAt(page, testId);
      return value !== undefined && value >= min ? value : undefined;
    },
    timeoutMs,
  );
}

async function openContributeTab(): Promise<Page> {
  // Separate contexts: two volunteers, each with their own storage and shard cache.
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => {
    console.error('contribute page error:', error);
  });
  // Forced onto WebGPU: this suite checks the WebGPU path end to end (training, flat tensor
  // memory, the dashboard's worker rows). Left to itself the page would measure SwiftShader's
  // WebGPU as slower than wasm here and train on wasm (e2e/backend-probe.test.ts).
  await page.goto(`${coordinator.url}/?backend=webgpu`);
  return page;
}

describe('contribute by opening a URL (WebGPU in a Web Worker)', () => {
  it('two tabs join the run, both train on webgpu, and the run version advances from their updates', async () => {
    for (let i = 0; i < 2; i++) tabs.push(await openContributeTab());
    const startVersion = (await coordinator.run(runId)).version;
    for (const tab of tabs) await tab.getByTestId('contribute-toggle').click();

    for (const tab of tabs) {
      await waitFor('backend webgpu', async () =>
        (await tab.getByTestId('backend').getAttribute('data-backend')) === 'webgpu'
          ? true
          : undefined,
      );
      await waitForCount(tab, 'updates-accepted', 3);
      expect(await tab.getByTestId('run-name').textContent()).toContain('e2e small MLP');
    }
    const run = await waitFor('version advanced by 10', async () => {
      const summary = await coordinator.run(runId);
      return summary.version >= startVersion + 10 ? summary : undefined;
    });
    expect(run.activeWorkers).toBe(2);
    // Every update the tabs saw accepted was applied (asynchronous: one version each). The
    // tabs are read first: their counters only trail the coordinator's, never lead them.
    let accepted = 0;
    for (const tab of tabs) accepted += (await numberAt(tab, 'updates-accepted')) ?? 0;
    expect(accepted).toBeGreaterThan(0);
    expect((await coordinator.run(runId)).version - startVersion).toBeGreaterThanOrEqual(accepted);
  });

  it('keeps tensor memory flat while training (every tensor disposed)', async () => {
    const tab = tabAt(0);
    const sent = await waitForCount(tab, 'updates-sent', 1);
    const before = await numberAt(tab, 'tensors');
    await waitForCount(tab, 'updates-sent', sent + 10);
    const after = await numberAt(tab, 'tensors');
    expect(before).toBeDefined();
    expect(after).toBe(before);
  });

  it('pauses and resumes', async () => {
    const tab = tabAt(1);
    await tab.getByTestId('pause-toggle').click();
    await waitFor('paused', async () =>
      (await tab.getByTestId('state').getAttribute('data-state')) === 'paused' ? true : undefined,
    );
    // The update in flight when pausing may still complete; after that nothing is sent.
    await tab.waitForTimeout(1_500);
    const pausedAt = await numberAt(tab, 'updates-sent');
    await tab.waitForTimeout(2_000);
    expect(await numberAt(tab, 'updates-sent')).toBe(pausedAt);
    await tab.getByTestId('pause-toggle').click();
    await waitForCount(tab, 'updates-sent', (pausedAt ?? 0) + 2);
  });

  it('remembers the choice across visits: a reload contributes again, with the shard from the cache', async () => {
    const tab = tabAt(0);
    await tab.reload();
    await waitFor('training after reload', async () =>
      (await tab.getByTestId('state').getAttribute('data-state')) === 'training' ? true : undefined,
    );
    await waitForCount(tab, 'updates-accepted', 1);
    const cache = tab.getByTestId('shard-cache');
    expect(await cache.getAttribute('data-hits')).toBe('1');
    expect(await cache.getAttribute('data-misses')).toBe('0');
  });
});

describe('the researcher dashboard', () => {
  let dashboard: Page;

  beforeAll(async () => {
    dashboard = await (await browser.newContext({ acceptDownloads: true })).newPage();
    dashboard.on('pageerror', (error) => {
      console.error('dashboard page error:', error);
    });
    await dashboard.goto(`${coordinator.url}/dashboard`);
    await dashboard.getByTestId('token-input').fill(coordinator.token);
    await dashboard.getByTestId('token-submit').click();
  });

  it('shows the run live: version, curves, and both webgpu workers', async () => {
    await dashboard.locator(`[data-testid="run-item"][data-run-id="${runId}"]`).click();
    const view = dashboard.locator(`[data-testid="run-view"][data-run-id="${runId}"]`);
    await view.waitFor();
    const firstVersion = await waitFor('a version on the dashboard', async () => {
      const v = await view.getByTestId('run-version').getAttribute('data-value');
      return v !== null && Number(v) > 0 ? Number(v) : undefined;
    });
    // Live: the version on the page moves without a reload.
    await waitFor('the dashboard version to move', async () => {
      const v = Number(await view.getByTestId('run-version').getAttribute('data-value'));
      return v > firstVersion ? v : undefined;
    });
    await view.getByTestId('chart-accuracy').locator('canvas').first().waitFor();
    const rows = view.getByTestId('worker-row');
    await waitFor('two worker rows', async () => ((await rows.count()) === 2 ? true : undefined));
    for (const backend of await rows.evaluateAll((els) =>
      els.map((el) => el.getAttribute('data-backend')),
    )) {
      expect(backend).toBe('webgpu');
    }
    await dashboard.screenshot({
      path: new URL('dashboard.png', ARTIFACTS).pathname,
      fullPage: true,
    });
  });

  it('stops the run; the contribute tabs see it end', async () => {
    await dashboard.getByTestId('run-view').getByTestId('stop-run').click();
    await waitFor('run stopped', async () =>
      (await coordinator.run(runId)).status === 'stopped' ? true : undefined,
    );
    await dashboard
      .locator(`[data-testid="run-item"][data-run-id="${runId}"][data-status="stopped"]`)
      .waitFor();
    for (const tab of tabs) {
      await waitFor('tab waiting for a run', async () =>
        (await tab.getByTestId('state').getAttribute('data-state')) === 'waiting-for-run'
          ? true
          : undefined,
      );
    }
  });

  // After the stop: the files of a stopped run are one consistent snapshot (a live run moves between downloads).
  it('exports files that plain tfjs loads with tf.loadLayersModel', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vtrain-export-'));
    const view = dashboard.getByTestId('run-view');
    const saved = new Map<string, string>();
    const savedPath = (file: string) => {
      const path = saved.get(file);
      if (path === undefined) throw new Error(`${file} was not downloaded`);
      return path;
    };
    for (const file of [
      'tfjs/model.json',
      'tfjs/weights.bin',
      'model.safetensors',
      'manifest.json',
    ]) {
      const [download] = await Promise.all([
        dashboard.waitForEvent('download'),
        view.locator(`[data-testid="export-file"][data-file="${file}"]`).click(),
      ]);
      const name = file.slice(file.lastIndexOf('/') + 1);
      await download.saveAs(join(dir, name));
      saved.set(file, join(dir, name));
    }
    // The manifest names each file with its SHA-256: the downloads are those files.
    const manifest = JSON.parse(await readFile(savedPath('manifest.json'), 'utf8')) as {
      files: { name: string; sha256: string }[];
    };
    const vouched = manifest.files.filter((entry) => saved.has(entry.name));
    expect(vouched.map((entry) => entry.name).sort()).toEqual([
      'model.safetensors',
      'tfjs/model.json',
      'tfjs/weights.bin',
    ]);
    for (const entry of vouched) {
      const digest = createHash('sha256')
        .update(await readFile(savedPath(entry.name)))
        .digest('hex');
      expect(digest, entry.name).toBe(entry.sha256);
    }
    // Serve the downloaded pair over HTTP and load it as any tfjs user would.
    const server = await serveDirectory(dir);
    try {
      const { port } = server.address() as AddressInfo;
      const model = await tf.loadLayersModel(`http://127.0.0.1:${port}/model.json`);
      // The zoo's models take 28x28x1 images (the MLP flattens them itself).
      const inputShape = model.inputs[0]?.shape.slice(1) as number[];
      const logits = model.predict(tf.zeros([2, ...inputShape])) as tf.Tensor;
      expect(logits.shape).toEqual([2, 10]);
      expect((await logits.data()).every(Number.isFinite)).toBe(true);
      expect(model.countParams()).toBe((await coordinator.run(runId)).parameterCount);
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
  it('overlays the accuracy curves of two runs (the tabs move on to a second run by themselves)', async () => {
    const secondRunId = await coordinator.createRun({
      name: 'e2e second run',
      seed: 2,
      model: { kind: 'mlp', hiddenUnits: [16] },
      dataset: { name: 'mnist', shards: 4 },
      training: { batchSize: 16, workerOptimizer: { kind: 'sgd', learningRate: 0.1 } },
      schedule: { kind: 'sync' },
      evaluation: { everyVersions: 2, testExamples: 500 },
      stop: { maxSeconds: 900 },
    });
    // Evaluated every 2 versions: by version 6 its curve has a few points beyond the initial one.
    await waitFor('the second run to train', async () =>
      (await coordinator.run(secondRunId)).version >= 6 ? true : undefined,
    );
    for (const id of [runId, secondRunId]) {
      await dashboard
        .locator(`[data-testid="run-item"][data-run-id="${id}"] input[type="checkbox"]`)
        .check();
    }
    await dashboard.getByTestId('compare-runs').click();
    const chart = dashboard.getByTestId('chart-compare');
    await chart.locator('canvas').first().waitFor();
    // One legend entry per run, named as the run list names them.
    for (const name of ['e2e small MLP', 'e2e second run']) {
      await chart.locator('.u-legend').getByText(name).waitFor();
    }
    await dashboard.screenshot({
      path: new URL('compare.png', ARTIFACTS).pathname,
      fullPage: true,
    });
  });
});

function serveDirectory(dir: string): Promise<Server> {
  const server = createServer((request, response) => {
    const name = (request.url ?? '/').replace(/^\/+/, '');
    if (!/^[\w.-]+$/.test(name)) {
      response.writeHead(404).end();
      return;
    }
    readFile(join(dir, name)).then(
      (bytes) => response.writeHead(200).end(bytes),
      () => response.writeHead(404).end(),
    );
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve(server);
    });
  });
}
