import {
  RUN_PRESETS,
  RunConfigSchema,
  RunPresetSchema,
  type RunConfig,
  type RunSummary,
} from '@vtrain/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_RUN } from '../demo-run.js';
import { TestCoordinator } from './harness.js';

/*
 * Presets over the real HTTP API: `GET /api/presets` lists them, and
 * `POST /api/runs` with `{ preset, ...overrides }` creates a run whose stored
 * config is the preset's with the overrides merged in. The runs train on the
 * synthetic data set (an override too), so no MNIST shards are cut here.
 */

describe('run presets over HTTP', () => {
  let coordinator: TestCoordinator;
  beforeAll(async () => {
    coordinator = await TestCoordinator.start();
  });
  afterAll(async () => {
    await coordinator.stop();
  });

  async function runCount(): Promise<number> {
    return ((await coordinator.api('/api/runs')).body as unknown[]).length;
  }

  async function storedConfig(id: string): Promise<RunConfig> {
    return ((await coordinator.api(`/api/runs/${id}`)).body as RunSummary).config;
  }

  it('lists every preset, each a valid listed preset', async () => {
    const { status, body } = await coordinator.api('/api/presets', { token: null });
    expect(status).toBe(200);
    expect(Array.isArray(body)).toBe(true);
    const listed = (body as unknown[]).map((p) => RunPresetSchema.parse(p));
    expect(listed.map((p) => p.name)).toEqual(RUN_PRESETS.map((p) => p.name));
    expect(body).toEqual(JSON.parse(JSON.stringify(RUN_PRESETS)));
  });

  it("creates a run with the preset's values", async () => {
    const created = await coordinator.api('/api/runs', {
      method: 'POST',
      body: { preset: 'sparse-async', name: 'sparse by name', dataset: { name: 'synthetic' } },
    });
    expect(created.status).toBe(201);
    const config = await storedConfig((created.body as { id: string }).id);
    expect(config).toEqual(
      RunConfigSchema.parse({
        name: 'sparse by name',
        training: {
          batchSize: 32,
          workerOptimizer: { kind: 'sgd', learningRate: 0.2 },
          serverOptimizer: { kind: 'sgd', learningRate: 1 },
        },
        compression: { density: 0.001, errorFeedback: true },
        schedule: { kind: 'async', staleness: { maxStaleness: 64, damping: 'none' } },
        dataset: { name: 'synthetic' },
        stop: { targetAccuracy: 0.97, maxSeconds: 3600 },
      }),
    );
  });

  it('applies overrides deep, switches union options whole, and drops fields set to null', async () => {
    const created = await coordinator.api('/api/runs', {
      method: 'POST',
      body: {
        preset: 'fastest',
        name: 'fastest, tweaked',
        dataset: { name: 'synthetic' },
        training: { batchSize: 16 },
        schedule: { kind: 'async' },
        stop: { maxSeconds: null, maxVersions: 500 },
      },
    });
    expect(created.status).toBe(201);
    const config = await storedConfig((created.body as { id: string }).id);
    expect(config.name).toBe('fastest, tweaked');
    // Overridden.
    expect(config.training.batchSize).toBe(16);
    expect(config.dataset.name).toBe('synthetic');
    expect(config.schedule).toEqual({
      kind: 'async',
      staleness: { maxStaleness: 32, damping: 'none' },
    });
    expect(config.stop).toEqual({ targetAccuracy: 0.97, maxVersions: 500 });
    // Kept from the preset.
    expect(config.dataset.shards).toBe(2);
    expect(config.training.workerOptimizer).toMatchObject({ kind: 'adam', learningRate: 0.005 });
    expect(config.training.serverOptimizer).toEqual({ kind: 'sgd', learningRate: 2 });
    expect(config.compression).toEqual({
      density: 0.01,
      errorFeedback: true,
      valueFormat: 'f16',
      downstreamDensity: 0.1,
      downstreamValueFormat: 'f16',
    });
    expect(config.evaluation.everyVersions).toBe(1);
  });

  it('refuses an unknown preset, a bad override and a missing token, creating nothing', async () => {
    const before = await runCount();
    const unknown = await coordinator.api('/api/runs', {
      method: 'POST',
      body: { preset: 'turbo', name: 'x' },
    });
    expect(unknown.status).toBe(400);
    const refusal = unknown.body as {
      error: string;
      message: string;
      issues: { path: string; message: string }[];
    };
    expect(refusal.error).toBe('invalid-run-config');
    expect(refusal.message).toContain('unknown preset "turbo"');
    expect(refusal.issues.map((i) => i.path)).toEqual(['preset']);
    expect(refusal.issues[0]?.message).toContain('"turbo"');

    const bad = await coordinator.api('/api/runs', {
      method: 'POST',
      body: { preset: 'robust', name: 'x', compression: { density: 2 }, colour: 'red' },
    });
    expect(bad.status).toBe(400);
    const badIssues = (bad.body as { issues: { path: string }[] }).issues.map((i) => i.path);
    expect(badIssues.sort()).toEqual(['', 'compression.density']);

    const noToken = await coordinator.api('/api/runs', {
      method: 'POST',
      body: { preset: 'robust', name: 'x' },
      token: null,
    });
    expect(noToken.status).toBe(401);
    expect(await runCount()).toBe(before);
  });
});

describe('DEMO_RUN', () => {
  it('is the `fastest` preset, named, with the values the benchmarks measured', () => {
    expect(DEMO_RUN).toEqual({
      name: 'Demo: MNIST MLP, local SGD',
      dataset: { name: 'mnist', shards: 2 },
      model: { kind: 'mlp', hiddenUnits: [128] },
      training: {
        batchSize: 64,
        workerOptimizer: { kind: 'adam', learningRate: 0.005 },
        serverOptimizer: { kind: 'sgd', learningRate: 2 },
      },
      compression: {
        density: 0.01,
        errorFeedback: true,
        valueFormat: 'f16',
        downstreamDensity: 0.1,
        downstreamValueFormat: 'f16',
      },
      schedule: { kind: 'local-sgd', period: { rule: 'fixed', steps: 50 } },
      evaluation: { everyVersions: 1 },
      stop: { targetAccuracy: 0.97, maxSeconds: 3600 },
    });
    expect({ ...DEMO_RUN, name: undefined }).toEqual(
      RUN_PRESETS.find((p) => p.name === 'fastest')?.config,
    );
  });
});
