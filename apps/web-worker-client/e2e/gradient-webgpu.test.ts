import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fixtures, GradientComparison } from './fixtures/fixtures.js';
import { launchChromium } from './support/chromium.js';
import { startFixtureServer, type FixtureServer } from './support/fixture-server.js';

/**
 * Tolerance of the WebGPU gradient against the CPU backend's, relative to the
 * largest gradient entry: both compute in float32, but reductions run in a
 * different order on the GPU, so the last bits differ (6e-8 absolute measured for this MLP,
 * docs/architecture.md#webgpu-in-headless-chromium).
 */
const RELATIVE_TOLERANCE = 1e-5;

let browser: Browser;
let server: FixtureServer;
let page: Page;

beforeAll(async () => {
  server = await startFixtureServer();
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(server.url);
  await page.waitForFunction(() => 'vtrainFixtures' in window);
});

afterAll(async () => {
  await browser.close();
  await server.close();
});

function compare(spec: object, batchSize: number): Promise<GradientComparison> {
  return page.evaluate(
    ([spec, batchSize]) =>
      (window as unknown as { vtrainFixtures: Fixtures }).vtrainFixtures.compareGradients(
        spec as Parameters<Fixtures['compareGradients']>[0],
        batchSize,
        ['cpu', 'webgpu'],
      ),
    [spec, batchSize] as const,
  );
}

describe('the WebGPU backend in Chromium', () => {
  it('computes the MLP gradient the CPU backend computes, within 1e-5 of the largest entry', async () => {
    const result = await compare({ kind: 'mlp', hiddenUnits: [128] }, 32);
    console.log('MLP 784-128-10, batch 32, webgpu vs cpu:', result);
    expect(result.parameterCount).toBe(101_770);
    expect(result.maxAbsGradient).toBeGreaterThan(0);
    expect(result.maxAbsDifference).toBeLessThanOrEqual(RELATIVE_TOLERANCE * result.maxAbsGradient);
    expect(result.lossDifference).toBeLessThan(1e-5);
  });

  it('computes the CNN gradient the CPU backend computes, within 1e-5 of the largest entry', async () => {
    const result = await compare({ kind: 'cnn', filters: [4, 8] }, 8);
    console.log('CNN [4, 8], batch 8, webgpu vs cpu:', result);
    expect(result.maxAbsGradient).toBeGreaterThan(0);
    expect(result.maxAbsDifference).toBeLessThanOrEqual(RELATIVE_TOLERANCE * result.maxAbsGradient);
    expect(result.lossDifference).toBeLessThan(1e-5);
  });
});
