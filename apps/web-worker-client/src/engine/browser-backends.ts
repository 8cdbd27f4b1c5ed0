import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { Hello } from '@vtrain/protocol';
import type { BackendCandidate } from './choose-backend.js';
import type { GpuAdapterDescription } from './pick-backend.js';

// The wasm binaries are bundled by Vite (content-hashed URLs), never fetched from a CDN.
setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl,
});

/** The part of the WebGPU API the probe reads (the DOM lib in use has no WebGPU types). */
interface GpuAdapterLike {
  readonly limits: { readonly maxBufferSize: number };
  /** GPUAdapterInfo; Chromium moved `isFallbackAdapter` here from the adapter. */
  readonly info?: GpuAdapterDescription;
  /** The older place of the flag (deprecated, still read for older browsers). */
  readonly isFallbackAdapter?: boolean;
  /** The older way to read the info (removed from newer Chromium). */
  requestAdapterInfo?(): Promise<GpuAdapterDescription>;
}
interface GpuLike {
  requestAdapter(): Promise<GpuAdapterLike | null>;
}

function webGpu(): GpuLike | undefined {
  return (globalThis.navigator as { gpu?: GpuLike } | undefined)?.gpu;
}

async function activate(name: string): Promise<string | undefined> {
  if (!(await tf.setBackend(name))) return 'failed to initialise';
  await tf.ready();
  return undefined;
}

/**
 * The tfjs backends of a browser, best first on a machine with a GPU
 * (docs/architecture.md#tfjs-backends-and-their-speed): WebGPU, then WebGL
 * (an OffscreenCanvas context in a Web Worker), WASM, and the plain-JS CPU.
 * This order is only the guess before anything is measured (the hello's
 * backend) and the probe's tie-break; a run's model trains on the backend the
 * probe measures fastest (probe-backends.ts, pick-backend.ts).
 * WebGPU is only tried when an adapter exists, which gives a clearer reason
 * than tfjs's own failure.
 */
export const BROWSER_BACKENDS: readonly BackendCandidate[] = [
  {
    name: 'webgpu',
    init: async () => {
      const gpu = webGpu();
      if (gpu === undefined) return 'this browser has no WebGPU (navigator.gpu is missing)';
      if ((await gpu.requestAdapter()) === null) return 'no WebGPU adapter is available';
      return activate('webgpu');
    },
  },
  {
    name: 'webgl',
    init: () =>
      typeof OffscreenCanvas === 'undefined'
        ? Promise.resolve('no OffscreenCanvas in a Web Worker here')
        : activate('webgl'),
  },
  { name: 'wasm', init: () => activate('wasm') },
  { name: 'cpu', init: () => activate('cpu') },
];

/** Hardware facts for the hello: cores and, with WebGPU, the adapter and its buffer limit. */
export async function browserCapabilities(): Promise<Hello['capabilities']> {
  const capabilities: { -readonly [K in keyof Hello['capabilities']]: Hello['capabilities'][K] } =
    {};
  const cores = globalThis.navigator.hardwareConcurrency;
  if (Number.isInteger(cores) && cores >= 1) capabilities.hardwareConcurrency = cores;
  const adapter = await webGpu()
    ?.requestAdapter()
    .catch(() => null);
  if (adapter) {
    capabilities.maxBufferSize = adapter.limits.maxBufferSize;
    const name = [adapter.info?.vendor, adapter.info?.architecture].filter(Boolean).join(' ');
    if (name !== '') capabilities.adapter = name.slice(0, 200);
  }
  return capabilities;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value.slice(0, 200) : undefined;
}

/**
 * What the browser says of its WebGPU adapter, so the probe can tell a
 * software adapter (SwiftShader, a fallback adapter) from a GPU; undefined
 * without WebGPU or an adapter.
 */
export async function webGpuAdapterDescription(): Promise<GpuAdapterDescription | undefined> {
  const adapter = await webGpu()
    ?.requestAdapter()
    .catch(() => null);
  if (!adapter) return undefined;
  const info: GpuAdapterDescription | undefined =
    adapter.info ?? (await adapter.requestAdapterInfo?.().catch(() => undefined));
  // GPUAdapterInfo's fields are getters on its prototype: copy them into a plain object.
  const fallback = info?.isFallbackAdapter ?? adapter.isFallbackAdapter;
  const description: { -readonly [K in keyof GpuAdapterDescription]: GpuAdapterDescription[K] } =
    {};
  for (const field of ['vendor', 'architecture', 'device', 'description'] as const) {
    const value = text(info?.[field]);
    if (value !== undefined) description[field] = value;
  }
  if (typeof fallback === 'boolean') description.isFallbackAdapter = fallback;
  return description;
}
