import { mkdir } from 'node:fs/promises';
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
    await view.getByText('async · top-k 0.10% + error feedback · mean').waitFor();

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
});
