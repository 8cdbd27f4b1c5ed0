import type { ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { spawnWorkers, stopWorkers } from '@vtrain/coordinator/harness';
import { encodeSafetensors } from '@vtrain/ml';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/chromium.js';
import { startTestCoordinator, waitFor, type TestCoordinator } from './support/coordinator.js';

/*
 * The launch form in Chromium against a real coordinator serving the built
 * dashboard: a researcher picks a recipe, a data set and a name, changes one
 * setting under Advanced, launches, and finds the run listed and opened with
 * the recipe's settings, as the coordinator stored them.
 */

/** Screenshots of this test, kept for people to look at (git-ignored). */
const ARTIFACTS = new URL('../test-results/', import.meta.url);

let coordinator: TestCoordinator;
let browser: Browser;
let page: Page;
let workers: ChildProcess[] = [];
const pageErrors: Error[] = [];

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  coordinator = await startTestCoordinator();
  browser = await launchChromium();
  page = await (await browser.newContext()).newPage();
  page.on('pageerror', (error) => {
    pageErrors.push(error);
  });
  await page.goto(`${coordinator.url}/dashboard`);
  await page.getByTestId('token-input').fill(coordinator.token);
  await page.getByTestId('token-submit').click();
});

afterAll(async () => {
  await stopWorkers(workers);
  await browser.close();
  await coordinator.stop();
});

describe('the launch form', () => {
  it('picks a preset, launches a run, and sees it listed with its config', async () => {
    await page.getByTestId('new-run').click();
    const form = page.getByTestId('launch-form');
    await form.waitFor();
    const advanced = page.getByTestId('launch-advanced');
    // Closed at first: what shows is the name, data set, model and recipe.
    expect(await advanced.evaluate((el) => (el as HTMLDetailsElement).open)).toBe(false);
    expect(await page.getByTestId('preset-option').count()).toBe(5);
    expect(await page.locator('[data-preset="fastest"] input[type="radio"]').isChecked()).toBe(
      true,
    );

    await page.locator('[data-preset="sparse-async"]').click();
    await page.locator('input[name="launch-dataset"][value="synthetic"]').check();
    await page.getByTestId('launch-name').fill('e2e sparse preset');
    await page.screenshot({
      path: new URL('launch-form.png', ARTIFACTS).pathname,
      fullPage: true,
    });

    // Advanced holds the recipe's values; one is changed.
    await advanced.locator('summary').click();
    const density = page.locator('#root_compression_density');
    await density.waitFor();
    expect(await density.inputValue()).toBe('0.001');
    const batchSize = page.locator('#root_training_batchSize');
    expect(await batchSize.inputValue()).toBe('32');
    await batchSize.fill('16');

    await page.getByTestId('launch-submit').click();
    const view = page.locator('[data-testid="run-view"]');
    await view.locator('h2', { hasText: 'e2e sparse preset' }).waitFor();
    const runId = await view.getAttribute('data-run-id');
    if (runId === null) throw new Error('the run view names no run');

    // Listed, with its schedule; opened, with its compression and aggregation.
    const item = page.locator(`[data-testid="run-item"][data-run-id="${runId}"]`);
    await item.waitFor();
    expect(await item.textContent()).toContain('e2e sparse preset');
    expect(await item.textContent()).toContain('async');
    await view.getByText('async · top-k 0.10% + error feedback · guarded-mean').waitFor();

    // What the coordinator stored: the preset, the data set chosen, the one change.
    const run = await waitFor('the run on the coordinator', async () => {
      const summary = await coordinator.run(runId);
      return summary.name === 'e2e sparse preset' ? summary : undefined;
    });
    expect(run.config.schedule).toMatchObject({
      kind: 'async',
      staleness: { maxStaleness: 64, damping: 'none' },
    });
    expect(run.config.compression).toMatchObject({ density: 0.001, errorFeedback: true });
    expect(run.config.training).toMatchObject({
      batchSize: 16,
      workerOptimizer: { kind: 'sgd', learningRate: 0.2 },
      serverOptimizer: { kind: 'sgd', learningRate: 1 },
    });
    expect(run.config.dataset.name).toBe('synthetic');
    expect(run.config.contributionCap).toBeUndefined();
    expect(pageErrors).toEqual([]);
  });

  it('shows a missing name beside its input and launches nothing', async () => {
    const before = ((await coordinator.api('/api/runs')).body as unknown[]).length;
    await page.getByTestId('new-run').click();
    await page.locator('[data-preset="robust"]').click();
    await page.getByTestId('launch-submit').click();
    const issue = page.locator('[data-testid="launch-issue"][data-path="name"]');
    await issue.waitFor();
    expect(await page.locator('.launch-name .text-danger').textContent()).toMatch(/>=1 characters/);
    expect(((await coordinator.api('/api/runs')).body as unknown[]).length).toBe(before);
    expect(pageErrors).toEqual([]);
  });

  it('uploads a data set, launches a preset on it, and the run trains: its chart moves', async () => {
    // A learnable set as Python's safetensors.numpy.save_file writes it: 3 classes of
    // 20-dimensional points around 3 centres, F32 inputs and U8 labels.
    const examples = 600;
    const x = new Float32Array(examples * 20);
    const y = new Uint8Array(examples);
    for (let i = 0; i < examples; i++) {
      y[i] = i % 3;
      for (let d = 0; d < 20; d++) {
        const centre = d % 3 === y[i] ? 1.5 : 0;
        x[i * 20 + d] = centre + Math.sin(i * 12.9898 + d * 78.233) * 0.5;
      }
    }
    const file = encodeSafetensors(
      [
        { name: 'x', shape: [examples, 20], data: x },
        { name: 'y', shape: [examples], data: y },
      ],
      {},
    );

    await page.getByTestId('open-datasets').click();
    await page.getByTestId('dataset-file').setInputFiles({
      name: 'three-blobs.safetensors',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(file),
    });
    await page.getByTestId('dataset-submit').click();
    const row = page.getByTestId('dataset-row');
    await row.waitFor();
    const datasetId = await row.getAttribute('data-id');
    if (datasetId === null) throw new Error('the uploaded data set has no id');
    expect(await page.getByTestId('dataset-status').textContent()).toContain('three-blobs');

    // The workers train the only active run: end the ones earlier tests launched.
    for (const run of (await coordinator.api('/api/runs')).body as {
      id: string;
      status: string;
    }[]) {
      if (run.status === 'active') {
        await coordinator.api(`/api/runs/${run.id}/stop`, { method: 'POST' });
      }
    }

    await page.getByTestId('new-run').click();
    await page.getByTestId('launch-form').waitFor();
    await page.locator(`input[name="launch-dataset"][value="upload:${datasetId}"]`).check();
    await page.locator('[data-preset="fastest"]').click();
    await page.getByTestId('launch-name').fill('e2e uploaded blobs');
    await page.getByTestId('launch-submit').click();
    const view = page.locator('[data-testid="run-view"]');
    await view.locator('h2', { hasText: 'e2e uploaded blobs' }).waitFor();
    const runId = await view.getAttribute('data-run-id');
    if (runId === null) throw new Error('the run view names no run');
    expect((await coordinator.run(runId)).config.dataset).toMatchObject({
      name: 'upload',
      id: datasetId,
    });

    workers = spawnWorkers(coordinator.url, 2);
    // The chart moves: the version goes up on the page without a reload, and the accuracy
    // chart draws the evaluations of the uploaded set's held-out examples. (The set is easy:
    // the preset's target, 97%, may end the run after its first round.)
    await waitFor(
      'the run to train on the uploaded set',
      async () => {
        const version = await view.getByTestId('run-version').getAttribute('data-value');
        return Number(version) >= 1 ? true : undefined;
      },
      120_000,
    );
    await view.getByTestId('chart-accuracy').locator('canvas').first().waitFor();
    const evaluated = await coordinator.metrics(runId);
    expect(evaluated.some((point) => point.testAccuracy !== undefined && point.version >= 1)).toBe(
      true,
    );
    await page.screenshot({
      path: new URL('uploaded-run.png', ARTIFACTS).pathname,
      fullPage: true,
    });
    expect(pageErrors).toEqual([]);
  });
});
