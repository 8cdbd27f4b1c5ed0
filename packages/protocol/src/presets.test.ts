import { describe, expect, it } from 'vitest';
import {
  expandRunPreset,
  findRunPreset,
  mergeRunConfig,
  RUN_PRESET_NAMES,
  RUN_PRESETS,
  RunPresetSchema,
} from './presets.js';
import { RunConfigSchema } from './run-config.js';
import { safeParseMessage, ValidationError } from './validation.js';

function preset(name: string) {
  const found = findRunPreset(name);
  if (found === undefined) throw new Error(`no preset ${name}`);
  return found;
}

describe('RUN_PRESETS', () => {
  it('has unique names, exactly the listed ones, each with a one-line use', () => {
    const names = RUN_PRESETS.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual([...RUN_PRESET_NAMES]);
    for (const p of RUN_PRESETS) {
      expect(p.title.length).toBeGreaterThan(0);
      expect(p.whenToUse).not.toContain('\n');
      expect(p.whenToUse.length).toBeGreaterThan(20);
    }
  });

  it.each(RUN_PRESETS.map((p) => [p.name, p] as const))(
    '%s validates as a run config once named, and as a listed preset',
    (_name, p) => {
      const result = safeParseMessage(RunConfigSchema, { name: 'x', ...p.config }, 'run config');
      expect(result.ok ? [] : result.error.issues).toEqual([]);
      expect(RunPresetSchema.safeParse(p).error?.issues).toBeUndefined();
      // A preset is what it is for: no name of its own, so each run names itself.
      expect('name' in p.config).toBe(false);
    },
  );

  it('keeps the recipes the benchmarks measured', () => {
    const fastest = RunConfigSchema.parse({ name: 'x', ...preset('fastest').config });
    expect(fastest.schedule).toMatchObject({
      kind: 'local-sgd',
      period: { rule: 'fixed', steps: 50 },
    });
    expect(fastest.training.workerOptimizer).toMatchObject({ kind: 'adam', learningRate: 0.005 });
    expect(fastest.training.serverOptimizer).toEqual({ kind: 'sgd', learningRate: 2 });
    expect(fastest.compression).toEqual({
      density: 0.01,
      errorFeedback: true,
      valueFormat: 'f16',
      downstreamDensity: 0.1,
      downstreamValueFormat: 'f16',
    });
    const sparse = RunConfigSchema.parse({ name: 'x', ...preset('sparse-async').config });
    expect(sparse.schedule.kind).toBe('async');
    expect(sparse.compression).toMatchObject({ density: 0.001, errorFeedback: true });
    const robust = RunConfigSchema.parse({ name: 'x', ...preset('robust').config });
    expect(robust.aggregation.rule).toBe('norm-filter');
    expect(robust.schedule.staleness.damping).toBe('inverse-plus-one');
    expect(robust.contributionCap).toBeDefined();
    expect(RunConfigSchema.parse({ name: 'x', ...preset('lupa').config }).schedule).toMatchObject({
      kind: 'local-sgd',
      period: { rule: 'lupa-adaptive' },
    });
    expect(
      RunConfigSchema.parse({ name: 'x', ...preset('smooth-switch').config }).schedule.kind,
    ).toBe('hybrid');
  });
});

describe('mergeRunConfig', () => {
  it('merges objects key by key, replaces arrays and scalars, and removes keys set to null', () => {
    const base = { a: { b: 1, c: [1, 2] }, d: 'x', e: { f: 1 } };
    expect(mergeRunConfig(base, { a: { c: [3] }, d: 'y', e: null })).toEqual({
      a: { b: 1, c: [3] },
      d: 'y',
    });
    expect(base).toEqual({ a: { b: 1, c: [1, 2] }, d: 'x', e: { f: 1 } });
  });

  it('replaces a union option whole when the patch switches its discriminator', () => {
    const base = { schedule: { kind: 'local-sgd', period: { rule: 'fixed', steps: 50 } } };
    expect(mergeRunConfig(base, { schedule: { kind: 'async' } })).toEqual({
      schedule: { kind: 'async' },
    });
    expect(mergeRunConfig(base, { schedule: { period: { steps: 10 } } })).toEqual({
      schedule: { kind: 'local-sgd', period: { rule: 'fixed', steps: 10 } },
    });
  });

  it('shares no object with the base', () => {
    const base = { model: { kind: 'mlp', hiddenUnits: [128] } };
    const merged = mergeRunConfig(base, {}) as typeof base;
    merged.model.hiddenUnits.push(7);
    expect(base.model.hiddenUnits).toEqual([128]);
  });

  it('keeps a __proto__ key as data, for the strict schema to refuse', () => {
    const patch = JSON.parse('{"__proto__": {"polluted": true}}') as unknown;
    const merged = mergeRunConfig({}, patch) as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.keys(merged)).toEqual(['__proto__']);
  });
});

describe('expandRunPreset', () => {
  it('leaves a body without a preset as it is', () => {
    const body = { name: 'plain', schedule: { kind: 'async' }, stop: { maxVersions: 3 } };
    expect(expandRunPreset(body)).toBe(body);
    expect(expandRunPreset('not an object')).toBe('not an object');
  });

  it("gives the preset's config with the overrides merged over it", () => {
    const expanded = expandRunPreset({
      preset: 'fastest',
      name: 'mine',
      training: { batchSize: 128 },
      stop: { maxSeconds: null, maxVersions: 20 },
    });
    const config = RunConfigSchema.parse(expanded);
    expect(config.name).toBe('mine');
    expect(config.training.batchSize).toBe(128);
    expect(config.training.workerOptimizer).toMatchObject({ kind: 'adam', learningRate: 0.005 });
    expect(config.stop).toEqual({ targetAccuracy: 0.97, maxVersions: 20 });
    expect(config.dataset.shards).toBe(2);
  });

  it('refuses an unknown or non-string preset at path `preset`, naming it', () => {
    for (const [name, words] of [
      ['fastest-ever', '"fastest-ever"'],
      [3, 'of type number'],
    ] as const) {
      let error: unknown;
      try {
        expandRunPreset({ preset: name, name: 'x' });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ValidationError);
      const issues = (error as ValidationError).issues;
      expect(issues).toHaveLength(1);
      expect(issues[0]?.path).toBe('preset');
      expect(issues[0]?.message).toContain(words);
      expect(issues[0]?.message).toContain('fastest, smooth-switch');
    }
  });

  it('still needs a name: the result goes through the same schema', () => {
    const result = safeParseMessage(
      RunConfigSchema,
      expandRunPreset({ preset: 'lupa' }),
      'run config',
    );
    expect(result.ok ? [] : result.error.issues.map((i) => i.path)).toEqual(['name']);
  });
});
