import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, killHard, spawnCoordinator } from '@vtrain/coordinator/coordinator-process';
import type { RunSummary } from '@vtrain/protocol';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/chromium.js';
import { WEB_ROOT, waitFor } from './support/coordinator.js';

/*
 * The browser half of the crash test: a contribute tab trains against a
 * coordinator running as its own process; the coordinator is SIGKILLed and
 * started again on the same port and data folder. The tab, untouched,
 * reconnects by itself (socket.io's jittered backoff), joins the resumed run
 * and trains on.
 */

const TOKEN = 'restart-researcher-token';

/** The coordinator as its own process, serving the built pages, on `port` and `dataDir`. */
function startCoordinatorProcess(port: number, dataDir: string): Promise<ChildProcess> {
  return spawnCoordinator({ port, dataDir, token: TOKEN, webRoot: WEB_ROOT });
}

let browser: Browser;
let coordinator: ChildProcess | undefined;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'vtrain-e2e-restart-'));
  browser = await launchChromium();
});

afterAll(async () => {
  await browser.close();
  if (coordinator) await killHard(coordinator);
  await rm(dataDir, { recursive: true, force: true });
});

describe('coordinator crash with a browser volunteer', () => {
  it('the tab reconnects by itself after a SIGKILL and restart, and trains on', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    coordinator = await startCoordinatorProcess(port, dataDir);
    const created = await fetch(`${url}/api/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'e2e restart',
        model: { kind: 'mlp', hiddenUnits: [16] },
        dataset: { name: 'synthetic', shards: 2 },
        training: { batchSize: 16, workerOptimizer: { kind: 'sgd', learningRate: 0.1 } },
        compression: { density: 0.05, errorFeedback: true },
        schedule: { kind: 'async' },
        evaluation: { everyVersions: 10, testExamples: 200 },
        checkpoint: { everyVersions: 5, everySeconds: 86_400 },
        stop: { maxSeconds: 900 },
      }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const run = async (): Promise<RunSummary> =>
      (await (await fetch(`${url}/api/runs/${id}`)).json()) as RunSummary;

    const page: Page = await (await browser.newContext()).newPage();
    page.on('pageerror', (error) => {
      console.error('contribute page error:', error);
    });
    await page.goto(url);
    await page.getByTestId('contribute-toggle').click();
    const before = await waitFor('the tab to train past version 12', async () => {
      const summary = await run();
      return summary.version >= 12 ? summary.version : undefined;
    });

    await killHard(coordinator);
    coordinator = await startCoordinatorProcess(port, dataDir);
    const resumed = await run();
    expect(resumed.status).toBe('active');
    expect(resumed.version).toBeGreaterThanOrEqual(before - 5); // at most one checkpoint interval lost

    // Nobody touches the tab: it reconnects, says hello again, and its updates move the run on.
    const after = await waitFor('the tab to train on after the restart', async () => {
      const summary = await run();
      return summary.version >= before + 10 && summary.activeWorkers === 1 ? summary : undefined;
    });
    console.log(
      `browser restart: killed at version >= ${before}, resumed at ${resumed.version}, ` +
        `trained on to ${after.version} with the same tab`,
    );
    expect(await page.getByTestId('state').getAttribute('data-state')).toBe('training');
  });
});
