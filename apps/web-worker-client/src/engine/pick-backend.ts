import type { Backend, ModelSpec, RunDatasetName } from '@vtrain/protocol';

/*
 * The decision half of the backend probe: measured step times and the WebGPU
 * adapter's identity in, the backend to train on and a sentence saying why
 * out. Pure (no tfjs, no DOM), so every case is unit-tested; the timing half
 * is probe-backends.ts.
 */

/** What the probe learnt of one backend. */
export type BackendMeasurement =
  | {
      readonly name: Backend;
      readonly outcome: 'measured';
      /** Median wall time of the timed steps, in ms. */
      readonly msPerStep: number;
      /** Timed steps behind the median (after the untimed warm-up step). */
      readonly steps: number;
      /** The warm-up step (shader compilation included), in ms. */
      readonly firstStepMs: number;
    }
  | {
      readonly name: Backend;
      /** The warm-up step alone took longer than the probe's whole budget; not timed further. */
      readonly outcome: 'over-budget';
      readonly firstStepMs: number;
    }
  | {
      readonly name: Backend;
      /** The backend did not initialise, or a step threw. */
      readonly outcome: 'failed';
      readonly reason: string;
    };

/**
 * The WebGPU adapter as the browser describes it (`GPUAdapter.info`, and the
 * older `isFallbackAdapter` on the adapter itself). A fallback adapter is a
 * CPU implementation of WebGPU (Chromium's is SwiftShader).
 */
export interface GpuAdapterDescription {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
  readonly description?: string;
  readonly isFallbackAdapter?: boolean;
}

/** The backend to train on and why, in words for the volunteer. */
export interface BackendDecision {
  readonly name: Backend;
  readonly reason: string;
}

/**
 * Two step times within this fraction of the faster one are a tie: a probe of a
 * few steps on a busy machine cannot tell them apart.
 */
export const TIE_TOLERANCE = 0.05;

/** Tie-break order: a GPU backend leaves the CPU's cores to the volunteer. */
const PREFERENCE: readonly Backend[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

const LABEL: Record<Backend, string> = {
  webgpu: 'WebGPU',
  webgl: 'WebGL',
  wasm: 'wasm',
  cpu: 'cpu',
};

/** Whether the adapter computes on the CPU (a fallback adapter, or SwiftShader by name). */
export function isSoftwareAdapter(adapter: GpuAdapterDescription | undefined): boolean {
  if (adapter === undefined) return false;
  if (adapter.isFallbackAdapter === true) return true;
  return [adapter.vendor, adapter.architecture, adapter.device, adapter.description].some(
    (field) => field !== undefined && /swiftshader/i.test(field),
  );
}

/** The adapter's name for a reason: "SwiftShader" when it is, else its vendor and architecture. */
function adapterName(adapter: GpuAdapterDescription): string {
  const fields = [adapter.vendor, adapter.architecture, adapter.device, adapter.description];
  if (fields.some((field) => field !== undefined && /swiftshader/i.test(field)))
    return 'SwiftShader';
  const name = [adapter.vendor, adapter.architecture].filter((f) => f !== undefined && f !== '');
  return name.length === 0 ? 'a fallback adapter' : name.join(' ');
}

/** A step time as the page shows it: 2.1, 9.6, 114. */
export function formatMs(ms: number): string {
  return ms < 10 ? ms.toFixed(1) : ms.toFixed(0);
}

function describeOther(m: BackendMeasurement): string | undefined {
  switch (m.outcome) {
    case 'measured':
      return undefined;
    case 'over-budget':
      return `${m.name}: first step took ${formatMs(m.firstStepMs)} ms, over the probe's budget`;
    case 'failed':
      return `${m.name}: ${m.reason}`;
  }
}

/**
 * Picks the backend with the fastest measured step. Ties (within
 * {@link TIE_TOLERANCE}) go to the earlier of webgpu, webgl, wasm, cpu, except
 * that a software WebGPU adapter gets no GPU preference (it runs on the CPU).
 * Backends whose warm-up step alone overran the budget count only when none
 * was measured; then the fastest warm-up wins.
 *
 * The reason names the winner's time and what it beat, and why WebGPU lost
 * when it did on a software adapter, e.g. "WebGPU is a software adapter here
 * (SwiftShader); wasm is faster (9.6 vs 114 ms per step)" or "WebGPU: 2.1 ms
 * per step, fastest of webgpu/webgl/wasm"; failures and skips follow.
 *
 * @throws Error naming every failure when no backend has a time.
 */
export function pickBackend(
  measurements: readonly BackendMeasurement[],
  adapter?: GpuAdapterDescription,
): BackendDecision {
  const software = isSoftwareAdapter(adapter);
  const rank = (name: Backend) =>
    name === 'webgpu' && software ? PREFERENCE.length : PREFERENCE.indexOf(name);
  const measured = measurements.flatMap((m) => (m.outcome === 'measured' ? [m] : []));
  const others = measurements.flatMap((m) => describeOther(m) ?? []);
  const suffix = others.length === 0 ? '' : `; ${others.join('; ')}`;

  if (measured.length === 0) {
    const slow = measurements.flatMap((m) => (m.outcome === 'over-budget' ? [m] : []));
    const fastest = [...slow].sort(
      (a, b) => a.firstStepMs - b.firstStepMs || rank(a.name) - rank(b.name),
    )[0];
    if (fastest === undefined) {
      throw new Error(`no tfjs backend could train this model (${others.join('; ')})`);
    }
    return {
      name: fastest.name,
      reason:
        `every backend's first step overran the probe's budget; ${fastest.name}'s was the ` +
        `fastest (${formatMs(fastest.firstStepMs)} ms)${suffix}`,
    };
  }

  const best = Math.min(...measured.map((m) => m.msPerStep));
  const tied = measured.filter((m) => m.msPerStep <= best * (1 + TIE_TOLERANCE));
  const winner = [...tied].sort((a, b) => rank(a.name) - rank(b.name))[0] ?? measured[0];
  if (winner === undefined) throw new Error('unreachable: a measured backend exists');
  const names = measured.map((m) => m.name).join('/');
  const time = `${formatMs(winner.msPerStep)} ms per step`;

  const webgpu = measurements.find((m) => m.name === 'webgpu');
  if (winner.name !== 'webgpu' && software && adapter !== undefined && webgpu !== undefined) {
    const lead = `WebGPU is a software adapter here (${adapterName(adapter)})`;
    const rest = measurements
      .filter((m) => m.name !== 'webgpu')
      .flatMap((m) => describeOther(m) ?? []);
    const restSuffix = rest.length === 0 ? '' : `; ${rest.join('; ')}`;
    const versus =
      webgpu.outcome === 'measured'
        ? `${winner.name} is faster (${formatMs(winner.msPerStep)} vs ${formatMs(webgpu.msPerStep)} ms per step)`
        : webgpu.outcome === 'over-budget'
          ? `${winner.name} is faster (${time}; WebGPU's first step took ${formatMs(webgpu.firstStepMs)} ms)`
          : `${winner.name}: ${time} (WebGPU failed: ${webgpu.reason})`;
    return { name: winner.name, reason: `${lead}; ${versus}${restSuffix}` };
  }

  if (measured.length === 1) {
    return {
      name: winner.name,
      reason: `${LABEL[winner.name]}: ${time}, the only one measured${suffix}`,
    };
  }
  const rivals = tied.filter((m) => m !== winner);
  const tie =
    rivals.length === 0
      ? ''
      : ` (tied with ${rivals.map((m) => `${m.name} ${formatMs(m.msPerStep)} ms`).join(', ')}; ` +
        `ties go to ${winner.name === 'webgpu' || winner.name === 'webgl' ? 'the GPU' : 'the earlier backend'})`;
  return {
    name: winner.name,
    reason: `${LABEL[winner.name]}: ${time}, fastest of ${names}${tie}${suffix}`,
  };
}

/** What a step's speed depends on: the model, the data set's geometry and the batch size. */
export interface ProbeSubject {
  readonly model: ModelSpec;
  readonly dataset: { readonly name: RunDatasetName };
  readonly training: { readonly batchSize: number };
}

/** FNV-1a, 32 bits, as 8 hex digits: a short stable name for a long topology. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/**
 * The key a probe's result is remembered under: the same model on the same
 * data set geometry at the same batch size runs at the same speed in a given
 * browser, whatever the run. A custom topology is named by a hash of its JSON.
 */
export function probeKey(subject: ProbeSubject): string {
  const model =
    subject.model.kind === 'custom'
      ? `custom:${fnv1a(JSON.stringify(subject.model.topology))}`
      : JSON.stringify(subject.model);
  return `${model}|${subject.dataset.name}|${subject.training.batchSize}`;
}

/** The model and batch size in words: "mlp [16] on mnist, batch 16". */
export function probeLabel(subject: ProbeSubject): string {
  const { model } = subject;
  const name =
    model.kind === 'mlp'
      ? `mlp [${model.hiddenUnits.join(', ')}]`
      : model.kind === 'cnn'
        ? `cnn [${model.filters.join(', ')}]`
        : 'custom model';
  return `${name} on ${subject.dataset.name}, batch ${subject.training.batchSize}`;
}
