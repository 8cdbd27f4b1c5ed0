import { totalRejected } from '@vtrain/protocol';
import type { WorkerStatus } from './status.js';

/**
 * A byte count in the largest unit that keeps it at or above 1 (B, KB, MB, GB;
 * powers of 1000), one decimal from KB up: 999 -> "999 B", 1500 -> "1.5 KB".
 */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * The one-line status the CLI prints every few seconds, e.g.
 * `training "mnist async" mlp [128] | v 120 | 118 applied, 2 rejected of 120 sent | 950 samples/s | up 1.2 MB, down 3.4 MB | wasm`.
 * Outside training it names the state and its message.
 */
export function formatStatusLine(status: WorkerStatus): string {
  const backend = status.backend.name;
  if (status.state !== 'training' && status.state !== 'paused') {
    const detail = status.message === undefined ? '' : `: ${status.message}`;
    return `${status.state}${detail} | ${backend}`;
  }
  const rejected = totalRejected(status.updatesRejected);
  const parts = [
    `${status.state} "${status.runName ?? status.runId ?? '?'}" ${status.model ?? ''}`.trimEnd(),
    `v ${status.version}`,
    `${status.updatesApplied} applied${status.updatesBuffered > 0 ? `, ${status.updatesBuffered} buffered` : ''}, ${rejected} rejected of ${status.updatesSent} sent`,
    `${Math.round(status.samplesPerSecond)} samples/s`,
    `up ${formatBytes(status.bytesUp)}, down ${formatBytes(status.bytesDown)}`,
  ];
  if (status.phase !== undefined) parts.push(`phase ${status.phase} K=${status.k ?? '?'}`);
  parts.push(backend);
  return parts.join(' | ');
}

/**
 * The line printed when a worker ends, e.g.
 * `stopped: 120 updates sent, 117 applied, 3 rejected; 3840 samples; up 1.2 MB, down 3.4 MB`.
 */
export function formatSummary(status: WorkerStatus): string {
  const rejected = totalRejected(status.updatesRejected);
  const detail =
    status.state === 'error' && status.message !== undefined ? ` (${status.message})` : '';
  return `${status.state}${detail}: ${status.updatesSent} updates sent, ${status.updatesApplied} applied, ${rejected} rejected; ${status.samples} samples; up ${formatBytes(status.bytesUp)}, down ${formatBytes(status.bytesDown)}`;
}
