import { beforeEach, describe, expect, it } from 'vitest';
import type { BackendProbeReport } from '../engine/engine-messages.js';
import {
  backendOverride,
  forgetProbes,
  loadProbes,
  MAX_STORED_PROBES,
  PROBE_CACHE_KEY,
  saveProbe,
} from './probe-cache.js';

beforeEach(() => {
  localStorage.clear();
});

function report(key: string, measuredAt: number): BackendProbeReport {
  return {
    key,
    label: `model ${key}`,
    source: 'probed',
    choice: { name: 'wasm', reason: 'WebGPU is a software adapter here (SwiftShader); …' },
    measurements: [
      { name: 'webgpu', outcome: 'measured', msPerStep: 114, steps: 5, firstStepMs: 900 },
      { name: 'webgl', outcome: 'failed', reason: 'context lost' },
      { name: 'wasm', outcome: 'measured', msPerStep: 9.6, steps: 5, firstStepMs: 40 },
      { name: 'cpu', outcome: 'over-budget', firstStepMs: 4000 },
    ],
    adapter: { vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true },
    measuredAt,
  };
}

describe('the stored backend probes', () => {
  it('survive a round trip, latest first, one per key', () => {
    saveProbe(localStorage, report('a', 1));
    saveProbe(localStorage, report('b', 2));
    saveProbe(localStorage, report('a', 3));
    expect(loadProbes(localStorage)).toEqual([report('a', 3), report('b', 2)]);
  });

  it('keep only probes measured now, not ones replayed from storage or forced', () => {
    saveProbe(localStorage, { ...report('a', 1), source: 'cached' });
    saveProbe(localStorage, { ...report('b', 1), source: 'forced' });
    expect(loadProbes(localStorage)).toEqual([]);
  });

  it(`keep at most ${MAX_STORED_PROBES}`, () => {
    for (let i = 0; i < MAX_STORED_PROBES + 3; i++) saveProbe(localStorage, report(`k${i}`, i));
    const kept = loadProbes(localStorage);
    expect(kept).toHaveLength(MAX_STORED_PROBES);
    expect(kept[0]?.key).toBe(`k${MAX_STORED_PROBES + 2}`);
  });

  it('drop what cannot be read: bad JSON, another shape, a bad entry among good ones', () => {
    localStorage.setItem(PROBE_CACHE_KEY, '{nope');
    expect(loadProbes(localStorage)).toEqual([]);
    localStorage.setItem(PROBE_CACHE_KEY, '{"a":1}');
    expect(loadProbes(localStorage)).toEqual([]);
    localStorage.setItem(
      PROBE_CACHE_KEY,
      JSON.stringify([
        { ...report('bad', 5), choice: { name: 'tpu', reason: '' } },
        report('a', 1),
      ]),
    );
    expect(loadProbes(localStorage)).toEqual([report('a', 1)]);
  });

  it('are forgotten by key or all at once', () => {
    saveProbe(localStorage, report('a', 1));
    saveProbe(localStorage, report('b', 2));
    forgetProbes(localStorage, 'a');
    expect(loadProbes(localStorage).map((p) => p.key)).toEqual(['b']);
    forgetProbes(localStorage);
    expect(localStorage.getItem(PROBE_CACHE_KEY)).toBeNull();
  });
});

describe('the ?backend= override', () => {
  it('names a backend, is absent, or says what is wrong with a bad value', () => {
    expect(backendOverride('?backend=webgpu')).toEqual({ backend: 'webgpu' });
    expect(backendOverride('?x=1')).toEqual({});
    expect(backendOverride('?backend=')).toEqual({});
    expect(backendOverride('?backend=tpu')).toEqual({
      error: '?backend=tpu is not one of webgpu, webgl, wasm, cpu; measuring the backends instead',
    });
  });
});
