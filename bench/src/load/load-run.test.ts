import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, killHard, spawnCoordinator } from '@vtrain/coordinator/coordinator-process';
import { DEMO_RUN } from '@vtrain/coordinator/demo-run';
import { TestCoordinator, waitFor } from '@vtrain/coordinator/harness';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Provenance } from '../provenance.js';
import type { LoadResult } from './load-run.js';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));

/** Runs `pnpm load`'s CLI from source; resolves with its exit code and output. */
function runCli(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      resolve({ code, output });
    });
  });
}

describe('pnpm load against a real coordinator', () => {
  let coordinator: TestCoordinator;
  let dir: string;

  // Each case starts the CLI from source (tsx), seconds on a busy machine.
  beforeAll(async () => {
    coordinator = await TestCoordinator.start();
    // The run `pnpm start` creates: local SGD, so updates are buffered until their round closes.
    await coordinator.createRun(DEMO_RUN);
    dir = await mkdtemp(path.join(tmpdir(), 'vtrain-load-'));
  }, 60_000);

  afterAll(async () => {
    await coordinator.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('joins its volunteers, gets updates applied and writes the result with provenance', async () => {
    const out = path.join(dir, 'load-4.json');
    const { code, output } = await runCli([
      '--url',
      coordinator.url,
      '--clients',
      '4',
      '--processes',
      '2',
      '--period',
      '300',
      '--seconds',
      '4',
      '--out',
      out,
    ]);
    expect(code, output).toBe(0);
    expect(output).toContain('[load] joined 4 of 4');
    const result = JSON.parse(await readFile(out, 'utf8')) as LoadResult & {
      provenance: Provenance;
    };
    expect(result).toMatchObject({
      url: coordinator.url,
      clients: 4,
      processes: 2,
      periodMs: 300,
      interrupted: false,
      joined: 4,
      refused: {},
      run: {
        runName: DEMO_RUN.name,
        schedule: 'local-sgd',
        density: DEMO_RUN.compression?.density,
        valueFormat: 'f16',
      },
    });
    expect(result.applied).toBeGreaterThan(0);
    expect(result.applied).toBe(result.appliedAtOnce + result.appliedAfterBarrier);
    expect(result.offered).toBeGreaterThanOrEqual(result.applied);
    expect(result.ackLatencyMs?.answers).toBeGreaterThan(0);
    // The coordinator runs in this test's process: the tool found it by its listening port.
    expect(result.coordinator?.pid).toBe(process.pid);
    expect(result.coordinator?.rssPeakBytes).toBeGreaterThan(0);
    expect(typeof result.provenance.commit).toBe('string');
    expect(Date.parse(result.provenance.date)).not.toBeNaN();
  }, 180_000);

  it('stops cleanly on Ctrl-C: connections closed, what was measured printed, no file', async () => {
    const out = path.join(dir, 'interrupted.json');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        CLI,
        '--url',
        coordinator.url,
        '--clients',
        '2',
        '--seconds',
        '600',
        '--out',
        out,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('[load] joined 2 of 2')) resolve();
      });
    });
    child.kill('SIGINT');
    expect(await exited, output).toBe(130);
    expect(output).toContain('interrupted: no result file written');
    await expect(readFile(out)).rejects.toThrow(/ENOENT/);
    // Every volunteer's connection is closed: the coordinator soon sees none left.
    await waitFor('the volunteers to be gone', 30_000, async () => {
      const runs = (await coordinator.api('/api/runs')).body as { activeWorkers: number }[];
      return runs.every((run) => run.activeWorkers === 0) ? true : undefined;
    });
  }, 120_000);

  it('stops with a clear message when no coordinator answers', async () => {
    const { code, output } = await runCli(['--url', 'http://127.0.0.1:9', '--clients', '1']);
    expect(code).toBe(1);
    expect(output).toContain('no coordinator answers at http://127.0.0.1:9');
  }, 60_000);

  it('prints the usage for a bad flag and exits 2', async () => {
    const { code, output } = await runCli(['--url', coordinator.url, '--clients', 'lots']);
    expect(code).toBe(2);
    expect(output).toContain('--clients must be a whole number');
    expect(output).toContain('Usage: pnpm load');
  }, 60_000);
});

describe('pnpm load against the admission limits', () => {
  it('reports the volunteers the limit per address refused and how to raise it', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'vtrain-load-limits-'));
    const port = await freePort();
    const token = 'load-limits-test-token';
    // The coordinator process reads its limits from the environment it inherits.
    process.env.WORKER_CONNECTIONS_PER_ADDRESS = '2';
    const child = await spawnCoordinator({ port, dataDir, token }).finally(() => {
      delete process.env.WORKER_CONNECTIONS_PER_ADDRESS;
    });
    try {
      const url = `http://127.0.0.1:${port}`;
      const created = await fetch(`${url}/api/runs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(DEMO_RUN),
      });
      expect(created.status).toBe(201);
      const out = path.join(dataDir, 'load-3.json');
      const { code, output } = await runCli([
        '--url',
        url,
        '--clients',
        '3',
        '--period',
        '300',
        '--seconds',
        '2',
        '--out',
        out,
      ]);
      expect(code, output).toBe(0);
      expect(output).toContain('WORKER_CONNECTIONS_PER_ADDRESS=3');
      const result = JSON.parse(await readFile(out, 'utf8')) as LoadResult;
      expect(result.joined).toBe(2);
      expect(Object.keys(result.refused)).toEqual([
        expect.stringMatching(/^rate-limited: 2 worker connections from this address/),
      ]);
      // The coordinator is another process here, found by its port.
      expect(result.coordinator?.pid).toBe(child.pid);
    } finally {
      await killHard(child);
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});
