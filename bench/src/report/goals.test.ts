import { describe, expect, it } from 'vitest';
import type { IngestResult, IngestServerResult } from '../ingest/ingest-types.js';
import { goalsSection } from './goals.js';

function server(updatesPerSecond: number): IngestServerResult {
  return { updatesPerSecond, rssBytes: 0, memoryPerWorkerBytes: 0, rejected: {} };
}

function ingest(distinct: number, bare: number): IngestResult {
  return {
    clients: 64,
    processes: 16,
    parameterCount: 1_000_000,
    density: 0.01,
    payloadBytes: 53_000,
    seconds: 10,
    coordinator: server(900),
    bare: server(bare),
    distinctIndices: server(distinct),
    ratio: 900 / bare,
    engineCost: { submitMs: 0.5, patchMs: 0.1 },
    notes: '',
  } as IngestResult;
}

function row(lines: readonly string[], start: string): string {
  const found = lines
    .join('\n')
    .split('\n')
    .find((l) => l.startsWith(`| ${start}`));
  if (found === undefined) throw new Error(`no row starting "${start}"`);
  return found;
}

describe('goals at a glance', () => {
  it('judges each goal from its result file, with the commit and date it was measured at', () => {
    const lines = goalsSection({
      ingest: {
        ...ingest(1200, 2000),
        provenance: { commit: 'abcdef1234567890', date: '2026-12-03T12:00:00Z', machine: 'm' },
      },
    });
    const ingestRow = row(lines, 'Coordinator ingest');
    expect(ingestRow).toContain('1200 updates/s, 60% of bare');
    expect(ingestRow).toContain('**met**');
    expect(ingestRow).toContain('commit `abcdef123456`, 2026-12-03T12:00:00Z');
    // 1,200/s is not half of 3,000/s: both conditions count.
    expect(row(goalsSection({ ingest: ingest(1200, 3000) }), 'Coordinator ingest')).toContain(
      '| not met |',
    );
  });

  it('says "not measured" for a goal without a result file', () => {
    const lines = goalsSection({});
    expect(row(lines, 'Headless worker')).toContain('not measured');
    expect(row(lines, 'Demo run')).toContain('not measured');
  });

  it('judges the browser engine per configuration, from the median of rounds where recorded', () => {
    const file = (ratio: number | undefined, date?: string) => ({
      chromium: '156',
      ...(date === undefined ? {} : { date }),
      results: [
        // engine / bare of the totals is 0.5: the recorded median of rounds wins.
        {
          backend: 'wasm',
          bareSamplesPerSecond: 2000,
          engineSamplesPerSecond: 1000,
          ...(ratio === undefined ? {} : { ratio }),
        },
      ],
    });
    const both = row(
      goalsSection({
        browserOverhead: file(0.9),
        browserOverheadDemo: file(0.95, '2026-12-03T17:00:00Z'),
      }),
      'Browser training engine',
    );
    expect(both).toContain(
      'one step per update: wasm 90%; demo run (50 local Adam steps): wasm 95%',
    );
    expect(both).toContain('**met**');
    expect(both).toContain('dated 2026-12-03T17:00:00Z');
    // An older file without rounds: the totals' ratio, and one configuration short of 85% fails the goal.
    const old = row(
      goalsSection({ browserOverhead: file(undefined), browserOverheadDemo: file(0.95) }),
      'Browser training engine',
    );
    expect(old).toContain('wasm 50%');
    expect(old).toContain('| not met |');
  });
});
