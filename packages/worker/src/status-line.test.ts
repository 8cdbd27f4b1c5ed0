import { describe, expect, it } from 'vitest';
import { initialStatus } from './status.js';
import { formatBytes, formatStatusLine, formatSummary } from './status-line.js';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.0 KB'],
    // 1,234,567 / 1000^2 = 1.234567 -> 1.2
    [1_234_567, '1.2 MB'],
    // 5e12 / 1000^3 = 5000 GB: the largest unit, never beyond
    [5e12, '5000.0 GB'],
  ])('%d -> %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe('formatStatusLine', () => {
  it('names the state and its message outside training', () => {
    const status = {
      ...initialStatus({ name: 'wasm' }),
      message:
        'cannot reach the coordinator at http://x (refused); retrying with backoff, attempt 3',
    };
    expect(formatStatusLine(status)).toBe(
      'connecting: cannot reach the coordinator at http://x (refused); retrying with backoff, attempt 3 | wasm',
    );
  });

  it('summarises progress while training', () => {
    const status = {
      ...initialStatus({ name: 'cpu' as const, reason: 'no conv kernels' }),
      state: 'training' as const,
      runName: 'mnist async',
      model: 'mlp [128]',
      version: 120,
      updatesSent: 121,
      updatesApplied: 117,
      updatesBuffered: 1,
      updatesRejected: { stale: 2, duplicate: 1 },
      samplesPerSecond: 949.6,
      bytesUp: 1_234_000,
      bytesDown: 3_400_000,
      phase: 'hybrid' as const,
      k: 3,
    };
    expect(formatStatusLine(status)).toBe(
      'training "mnist async" mlp [128] | v 120 | 117 applied, 1 buffered, 3 rejected of 121 sent | 950 samples/s | up 1.2 MB, down 3.4 MB | phase hybrid K=3 | cpu',
    );
  });
});

describe('formatSummary', () => {
  it('totals the counters, with the reason of a fatal error', () => {
    const status = {
      ...initialStatus({ name: 'wasm' as const }),
      state: 'error' as const,
      message: 'protocol version mismatch',
      updatesSent: 12,
      updatesApplied: 9,
      updatesRejected: { stale: 2, 'rate-limited': 1 },
      samples: 384,
      bytesUp: 52_000,
      bytesDown: 2_500_000,
    };
    expect(formatSummary(status)).toBe(
      'error (protocol version mismatch): 12 updates sent, 9 applied, 3 rejected; 384 samples; up 52.0 KB, down 2.5 MB',
    );
  });
});
