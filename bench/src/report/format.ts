import type { Spread } from '../stats.js';

/** Number formatting shared by the report's tables. */

export function pct(value: number, digits = 1): string {
  return Number.isFinite(value) ? `${(value * 100).toFixed(digits)}%` : 'n/a';
}

/** Mean ± sample std over seeds, as percentages, with the min-max range. */
export function pctSpread(s: Spread): string {
  if (!Number.isFinite(s.mean)) return 'n/a';
  if (s.n === 1) return pct(s.mean, 2);
  return `${pct(s.mean, 2)} ± ${(s.std * 100).toFixed(2)} (${pct(s.min, 1)}–${pct(s.max, 1)})`;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function secondsSpread(s: Spread): string {
  if (!Number.isFinite(s.mean)) return 'n/a';
  return s.n === 1 ? seconds(s.mean) : `${seconds(s.mean)} ± ${(s.std / 1000).toFixed(1)}`;
}

export function bytes(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value >= 1e9) return `${(value / 1e9).toFixed(2)} GB`;
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} MB`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)} KB`;
  return `${Math.round(value)} B`;
}

export function ratio(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value >= 10 ? `${value.toFixed(0)}x` : `${value.toFixed(2)}x`;
}

/** A GitHub-flavoured markdown table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
