import { describe, expect, it } from 'vitest';
import {
  isSoftwareAdapter,
  pickBackend,
  probeKey,
  probeLabel,
  type BackendMeasurement,
  type GpuAdapterDescription,
} from './pick-backend.js';

const SWIFTSHADER: GpuAdapterDescription = {
  vendor: 'google',
  architecture: 'swiftshader',
  isFallbackAdapter: true,
};
const NVIDIA: GpuAdapterDescription = { vendor: 'nvidia', architecture: 'ampere' };

function measured(name: BackendMeasurement['name'], msPerStep: number): BackendMeasurement {
  return { name, outcome: 'measured', msPerStep, steps: 5, firstStepMs: msPerStep * 10 };
}

describe('pickBackend', () => {
  it('a software WebGPU adapter loses to faster wasm, and the reason says so', () => {
    const choice = pickBackend(
      [
        measured('webgpu', 114),
        measured('webgl', 17),
        measured('wasm', 9.6),
        measured('cpu', 35.9),
      ],
      SWIFTSHADER,
    );
    expect(choice).toEqual({
      name: 'wasm',
      reason:
        'WebGPU is a software adapter here (SwiftShader); wasm is faster (9.6 vs 114 ms per step)',
    });
  });

  it('names a fallback adapter that does not say SwiftShader by its vendor', () => {
    const choice = pickBackend([measured('webgpu', 50), measured('wasm', 10)], {
      vendor: 'acme',
      architecture: 'soft',
      isFallbackAdapter: true,
    });
    expect(choice.reason).toBe(
      'WebGPU is a software adapter here (acme soft); wasm is faster (10 vs 50 ms per step)',
    );
  });

  it('a real GPU wins when it is fastest', () => {
    expect(
      pickBackend([measured('webgpu', 2.1), measured('webgl', 4.4), measured('wasm', 9.6)], NVIDIA),
    ).toEqual({ name: 'webgpu', reason: 'WebGPU: 2.1 ms per step, fastest of webgpu/webgl/wasm' });
  });

  it('a real GPU that is slower than wasm (a tiny model) loses too, with the times', () => {
    const choice = pickBackend([measured('webgpu', 3), measured('wasm', 1.2)], NVIDIA);
    expect(choice).toEqual({
      name: 'wasm',
      reason: 'wasm: 1.2 ms per step, fastest of webgpu/wasm',
    });
  });

  it('ties (within 5%) go to the GPU backend', () => {
    const choice = pickBackend([measured('webgpu', 10.4), measured('wasm', 10)], NVIDIA);
    expect(choice.name).toBe('webgpu');
    expect(choice.reason).toBe(
      'WebGPU: 10 ms per step, fastest of webgpu/wasm (tied with wasm 10 ms; ties go to the GPU)',
    );
    // Just outside the tolerance the faster one wins.
    expect(pickBackend([measured('webgpu', 10.6), measured('wasm', 10)], NVIDIA).name).toBe('wasm');
  });

  it('a software WebGPU adapter gets no GPU preference in a tie', () => {
    expect(pickBackend([measured('webgpu', 10), measured('wasm', 10.2)], SWIFTSHADER).name).toBe(
      'wasm',
    );
    expect(pickBackend([measured('wasm', 10), measured('cpu', 10)]).name).toBe('wasm');
  });

  it('skips a backend that failed and says why', () => {
    const choice = pickBackend(
      [
        { name: 'webgpu', outcome: 'failed', reason: 'no WebGPU adapter is available' },
        measured('webgl', 17),
        measured('wasm', 9.6),
      ],
      undefined,
    );
    expect(choice).toEqual({
      name: 'wasm',
      reason:
        'wasm: 9.6 ms per step, fastest of webgl/wasm; webgpu: no WebGPU adapter is available',
    });
  });

  it('a software adapter whose first step overran the budget is named as such', () => {
    const choice = pickBackend(
      [{ name: 'webgpu', outcome: 'over-budget', firstStepMs: 4200 }, measured('wasm', 9.6)],
      SWIFTSHADER,
    );
    expect(choice).toEqual({
      name: 'wasm',
      reason:
        "WebGPU is a software adapter here (SwiftShader); wasm is faster (9.6 ms per step; WebGPU's first step took 4200 ms)",
    });
  });

  it('with one backend measured, says it was the only one', () => {
    expect(
      pickBackend([
        { name: 'webgl', outcome: 'failed', reason: 'context lost' },
        measured('cpu', 36),
      ]),
    ).toEqual({
      name: 'cpu',
      reason: 'cpu: 36 ms per step, the only one measured; webgl: context lost',
    });
  });

  it('when every first step overran the budget, takes the fastest first step', () => {
    const choice = pickBackend([
      { name: 'webgl', outcome: 'over-budget', firstStepMs: 9000 },
      { name: 'cpu', outcome: 'over-budget', firstStepMs: 6000 },
    ]);
    expect(choice.name).toBe('cpu');
    expect(choice.reason).toContain("cpu's was the fastest (6000 ms)");
  });

  it('fails naming every reason when no backend ran a step', () => {
    expect(() =>
      pickBackend([
        { name: 'webgpu', outcome: 'failed', reason: 'a' },
        { name: 'cpu', outcome: 'failed', reason: 'b' },
      ]),
    ).toThrow('no tfjs backend could train this model (webgpu: a; cpu: b)');
  });
});

describe('isSoftwareAdapter', () => {
  it('knows SwiftShader by name or by the fallback flag, and a GPU as hardware', () => {
    expect(isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader' })).toBe(true);
    expect(isSoftwareAdapter({ description: 'SwiftShader Device (Subzero)' })).toBe(true);
    expect(isSoftwareAdapter({ isFallbackAdapter: true })).toBe(true);
    expect(isSoftwareAdapter(NVIDIA)).toBe(false);
    expect(isSoftwareAdapter(undefined)).toBe(false);
  });
});

describe('probeKey', () => {
  const subject = {
    model: { kind: 'mlp' as const, hiddenUnits: [16] },
    dataset: { name: 'mnist' as const, shardUrl: '/x', shardIndex: 0, shardCount: 1 },
    training: { batchSize: 16, workerOptimizer: { kind: 'sgd' as const, learningRate: 0.1 } },
  };

  it('tells models and batch sizes apart and ignores the rest', () => {
    const key = probeKey(subject);
    expect(probeKey({ ...subject, training: { ...subject.training, batchSize: 32 } })).not.toBe(
      key,
    );
    expect(probeKey({ ...subject, model: { kind: 'mlp', hiddenUnits: [32] } })).not.toBe(key);
    const otherShard = {
      ...subject,
      dataset: { ...subject.dataset, shardUrl: '/y', shardIndex: 1 },
    };
    expect(probeKey(otherShard)).toBe(key);
    expect(probeLabel(subject)).toBe('mlp [16] on mnist, batch 16');
  });

  it('names a custom topology by a short hash of it', () => {
    const a = probeKey({ ...subject, model: { kind: 'custom', topology: { layers: [1, 2] } } });
    const b = probeKey({ ...subject, model: { kind: 'custom', topology: { layers: [1, 3] } } });
    expect(a).toMatch(/^custom:[0-9a-f]{8}\|mnist\|16$/);
    expect(b).not.toBe(a);
  });
});
