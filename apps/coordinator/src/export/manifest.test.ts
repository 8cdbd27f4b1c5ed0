import { RunConfigSchema } from '@vtrain/protocol';
import { describe, expect, it } from 'vitest';
import type { StoredRun } from '../store/store.js';
import { ExportError } from './export-error.js';
import { buildManifest } from './manifest.js';

const run: StoredRun = {
  id: 'r1',
  name: 'manifest',
  status: 'stopped',
  config: RunConfigSchema.parse({
    name: 'manifest',
    schedule: { kind: 'sync' },
    stop: { maxSeconds: 60 },
  }),
  createdAt: 0,
  parameterCount: 3,
  version: 2,
  elapsedSeconds: 1.25,
};

const dataset = {
  name: 'mnist' as const,
  inputShape: [28, 28, 1],
  inputDtype: 'u8' as const,
  classes: 10,
};

describe('buildManifest', () => {
  it('lists each file with its length and SHA-256 (FIPS 180-4 test vectors)', () => {
    const manifest = buildManifest({
      run,
      evaluation: undefined,
      metrics: undefined,
      dataset,
      files: [
        { name: 'empty.bin', bytes: new Uint8Array(0) },
        { name: 'abc.txt', bytes: new TextEncoder().encode('abc') },
      ],
      exportedAt: 86_400_000,
    });
    expect(manifest.files).toEqual([
      {
        name: 'empty.bin',
        bytes: 0,
        sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      },
      {
        name: 'abc.txt',
        bytes: 3,
        sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      },
    ]);
    // 86,400,000 ms is one day after the epoch.
    expect(manifest.exportedAt).toBe('1970-01-02T00:00:00.000Z');
    expect(manifest.run).toEqual({
      id: 'r1',
      name: 'manifest',
      status: 'stopped',
      createdAt: '1970-01-01T00:00:00.000Z',
      parameterCount: 3,
      version: 2,
      elapsedSeconds: 1.25,
      endedReason: null,
      config: run.config,
    });
    expect(manifest.metrics).toBeNull();
    expect(manifest.evaluation).toBeNull();
  });

  it('states the evaluation of the exported version, accuracy 0 included', () => {
    const evaluation = {
      version: 2,
      at: 0,
      testLoss: 2.5,
      testAccuracy: 0,
      testExamples: 2000,
      testSet: 'full' as const,
    };
    const manifest = buildManifest({
      run,
      evaluation,
      metrics: undefined,
      dataset,
      files: [],
      exportedAt: 0,
    });
    expect(manifest.evaluation).toEqual(evaluation);
    expect(manifest.evaluation?.testAccuracy).toBe(0);
    // Figures of another version, or of a sample, are not the exported weights' accuracy.
    for (const wrong of [
      { ...evaluation, version: 1 },
      { ...evaluation, testSet: 'sample' as const },
    ]) {
      expect(() =>
        buildManifest({
          run,
          evaluation: wrong,
          metrics: undefined,
          dataset,
          files: [],
          exportedAt: 0,
        }),
      ).toThrow(ExportError);
    }
  });

  it('refuses repeated or empty file names and impossible dates', () => {
    const bytes = new Uint8Array(1);
    const base = { run, evaluation: undefined, metrics: undefined, dataset, exportedAt: 0 };
    const attempts = [
      {
        ...base,
        files: [
          { name: 'a', bytes },
          { name: 'a', bytes },
        ],
      },
      { ...base, files: [{ name: '', bytes }] },
      { ...base, files: [], exportedAt: Number.NaN },
      { ...base, files: [], exportedAt: 8.64e15 + 1 },
    ];
    for (const attempt of attempts) {
      expect(() => buildManifest(attempt)).toThrow(ExportError);
    }
  });
});
