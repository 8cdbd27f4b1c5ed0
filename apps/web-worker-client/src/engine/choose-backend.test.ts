import { describe, expect, it } from 'vitest';
import { chooseBackend, type BackendCandidate } from './choose-backend.js';

function candidate(name: BackendCandidate['name'], outcome: string | undefined | Error) {
  const tried: string[] = [];
  const value: BackendCandidate = {
    name,
    init: () => {
      tried.push(name);
      if (outcome instanceof Error) return Promise.reject(outcome);
      return Promise.resolve(outcome);
    },
  };
  return { value, tried };
}

describe('chooseBackend', () => {
  it('keeps the first backend that initialises, with no reason when it is the best', async () => {
    const webgpu = candidate('webgpu', undefined);
    const webgl = candidate('webgl', undefined);
    expect(await chooseBackend([webgpu.value, webgl.value])).toEqual({ name: 'webgpu' });
    expect(webgl.tried).toEqual([]);
  });

  it('says why each better backend was skipped, thrown errors included', async () => {
    const choice = await chooseBackend([
      candidate('webgpu', 'no WebGPU adapter').value,
      candidate('webgl', new Error('context lost')).value,
      candidate('wasm', undefined).value,
      candidate('cpu', undefined).value,
    ]);
    expect(choice).toEqual({
      name: 'wasm',
      reason: 'webgpu: no WebGPU adapter; webgl: context lost',
    });
  });

  it('fails with every reason when nothing initialises', async () => {
    await expect(
      chooseBackend([candidate('webgpu', 'a').value, candidate('cpu', 'b').value]),
    ).rejects.toThrow('no tfjs backend could initialise (webgpu: a; cpu: b)');
  });
});
