import { RUN_PRESETS, RunConfigSchema, type RunConfigInput } from '@vtrain/protocol';
import { describe, expect, it } from 'vitest';
import {
  configForPreset,
  datasetChoiceOf,
  initialLaunchConfig,
  launchIssues,
  messagesAt,
  modelKindOf,
  needsAdvanced,
  presetNamed,
  withDataset,
  withModelKind,
} from './launch-form-model.js';

describe('the launch form model', () => {
  it('starts from the fastest recipe, unnamed, so the only thing left to give is a name', () => {
    const config = initialLaunchConfig();
    expect(config).toEqual({ name: '', ...presetNamed('fastest').config });
    expect(launchIssues(config).map((issue) => issue.path)).toEqual(['name']);
    expect(launchIssues({ ...config, name: 'first' })).toEqual([]);
  });

  it('resets every setting to the new recipe, keeping the name, data set and model kind', () => {
    let config: RunConfigInput = { ...initialLaunchConfig(), name: 'mine' };
    config = withDataset(config, { source: 'builtin', name: 'fashion-mnist' });
    config = withModelKind(config, 'cnn', presetNamed('fastest'));
    // An edit under Advanced, which the next recipe must undo.
    config = { ...config, training: { ...config.training, batchSize: 7 } };

    const next = configForPreset(presetNamed('sparse-async'), {
      name: config.name,
      dataset: datasetChoiceOf(config),
      model: modelKindOf(config),
    });
    expect(next.name).toBe('mine');
    expect(next.dataset).toEqual({ name: 'fashion-mnist' });
    expect(next.model).toEqual({ kind: 'cnn', filters: [8, 16] });
    expect(next.training?.batchSize).toBe(32);
    expect(next.compression).toEqual({ density: 0.001, errorFeedback: true });
    expect(next.schedule).toEqual(presetNamed('sparse-async').config.schedule);
    expect(launchIssues(next)).toEqual([]);
  });

  it('yields, for every recipe, a valid config carrying exactly its settings', () => {
    for (const preset of RUN_PRESETS) {
      const config = configForPreset(preset, { name: preset.name });
      expect(RunConfigSchema.parse(config)).toEqual(
        RunConfigSchema.parse({ name: preset.name, ...preset.config }),
      );
    }
  });

  it('never lets an edit reach the preset it came from', () => {
    const config = configForPreset(presetNamed('fastest'), { name: 'x' });
    (config.model as { hiddenUnits: number[] }).hiddenUnits.push(64);
    expect(presetNamed('fastest').config.model).toEqual({ kind: 'mlp', hiddenUnits: [128] });
  });

  it("keeps the recipe's own model when its kind is chosen again, else that kind's defaults", () => {
    const fastest = presetNamed('fastest');
    const base = configForPreset(fastest, { name: 'x' });
    const cnn = withModelKind(base, 'cnn', fastest);
    expect(cnn.model).toEqual({ kind: 'cnn', filters: [8, 16] });
    expect(withModelKind(cnn, 'mlp', fastest).model).toEqual({ kind: 'mlp', hiddenUnits: [128] });
    expect(withModelKind(base, 'custom', fastest).model).toEqual({ kind: 'custom', topology: {} });
    expect(withModelKind(base, 'mlp', fastest)).toBe(base);
  });

  it('switches the data set, keeping its shards, and reads the choice back', () => {
    const base = configForPreset(presetNamed('fastest'), { name: 'x' });
    const synthetic = withDataset(base, { source: 'builtin', name: 'synthetic' });
    expect(synthetic.dataset).toEqual({ name: 'synthetic', shards: 2 });
    expect(datasetChoiceOf(synthetic)).toEqual({ source: 'builtin', name: 'synthetic' });
    const uploaded = withDataset(synthetic, { source: 'upload', id: 'ds-1' });
    expect(uploaded.dataset).toEqual({ name: 'upload', id: 'ds-1', shards: 2 });
    expect(datasetChoiceOf(uploaded)).toEqual({ source: 'upload', id: 'ds-1' });
    // Back to a built-in one: the upload's id goes.
    expect(withDataset(uploaded, { source: 'builtin', name: 'mnist' }).dataset).toEqual({
      name: 'mnist',
      shards: 2,
    });
  });

  it('opens Advanced only for issues of the fields it holds', () => {
    expect(needsAdvanced([{ path: 'name', message: 'Too small' }])).toBe(false);
    expect(needsAdvanced([{ path: 'preset', message: 'unknown' }])).toBe(false);
    expect(needsAdvanced([{ path: 'compression.density', message: 'Too big' }])).toBe(true);
    const issues = launchIssues({
      ...initialLaunchConfig(),
      name: '',
      compression: { density: 2 },
    });
    expect(issues.map((issue) => issue.path).sort()).toEqual(['compression.density', 'name']);
    expect(needsAdvanced(issues)).toBe(true);
    expect(messagesAt(issues, 'name')).toMatch(/>=1 characters/);
    expect(messagesAt(issues, 'seed')).toBeUndefined();
  });
});
