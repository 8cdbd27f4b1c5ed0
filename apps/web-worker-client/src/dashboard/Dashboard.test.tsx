import { act, cleanup, render, screen, waitFor, within } from '@testing-library/react';
import type { Evaluation, MetricsPoint, RunSummary } from '@vtrain/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type * as ApiModule from '../shared/api.js';
import { FakeSocket } from './test-support/fake-socket.js';
import { point, run } from './test-support/fixtures.js';

// No canvas in happy-dom: the chart wrapper has its own test.
vi.mock('./UplotChart.js', () => ({
  UplotChart: ({ testId }: { testId?: string }) => <div data-testid={testId} />,
}));

const harness = vi.hoisted(() => ({
  socket: undefined as FakeSocket | undefined,
  listRuns: vi.fn<() => Promise<RunSummary[]>>(),
}));
vi.mock('./use-dashboard-socket.js', () => ({
  useDashboardSocket: () => {
    if (harness.socket === undefined) throw new Error('no socket');
    return { socket: harness.socket.asSocket(), connected: true, error: undefined };
  },
}));
vi.mock('../shared/api.js', async (importOriginal) => ({
  ...(await importOriginal<typeof ApiModule>()),
  listRuns: harness.listRuns,
}));

const { Dashboard } = await import('./Dashboard.js');

afterEach(cleanup);

function evaluation(version: number, testAccuracy: number, at: number): Evaluation {
  return { version, at, testLoss: 1, testAccuracy, testExamples: 2000, testSet: 'sample' };
}

function evaluatedPoint(e: Evaluation): MetricsPoint {
  return point({
    at: e.at,
    version: e.version,
    testAccuracy: e.testAccuracy,
    testLoss: e.testLoss,
    testExamples: e.testExamples,
    testSet: e.testSet,
  });
}

const listAccuracy = (): string =>
  within(screen.getByTestId('run-item')).getByTestId('run-accuracy').textContent;
const headerAccuracy = (): string =>
  within(screen.getByTestId('run-view')).getByTestId('run-accuracy').textContent;

describe('Dashboard', () => {
  it('moves the run list with the points the run view draws, and never back', async () => {
    const first = evaluation(0, 0.102, 10);
    const atV48 = run({
      version: 48,
      latest: point({ at: 48, version: 48 }),
      evaluation: first,
    });
    harness.listRuns.mockResolvedValue([atV48]);
    const socket = new FakeSocket(() => ({
      type: 'subscribed',
      run: atV48,
      metrics: [evaluatedPoint(first), point({ at: 48, version: 48 })],
      workers: [],
    }));
    harness.socket = socket;
    render(<Dashboard token="tok" onChangeToken={vi.fn()} />);

    await waitFor(() => {
      expect(headerAccuracy()).toContain('10.2%');
    });
    // The list says which version its figure is of: the run is at v48, the figure of v0.
    expect(listAccuracy()).toBe('10.2% @v0');
    expect(headerAccuracy()).toContain('version 0, sample of 2,000 examples');

    // The evaluation of v50 arrives: the point for the charts, the summary for every list.
    const second = evaluation(50, 0.771, 60);
    act(() => {
      socket.deliver('metrics', evaluatedPoint(second));
      socket.deliver('run-status', {
        type: 'run-status',
        run: run({ version: 50, latest: evaluatedPoint(second), evaluation: second }),
      });
    });
    expect(headerAccuracy()).toContain('77.1%');
    expect(listAccuracy()).toBe('77.1%');
    expect(within(screen.getByTestId('run-item')).getByText('v50')).toBeDefined();

    // A late notice with older figures (or a poll answered before) does not put them back.
    act(() => {
      socket.deliver('run-status', { type: 'run-status', run: atV48 });
    });
    expect(listAccuracy()).toBe('77.1%');
  });

  it('shows an accuracy of 0 as 0.0%, in the list and the header', async () => {
    const zero = evaluation(0, 0, 10);
    const summary = run({ latest: evaluatedPoint(zero), evaluation: zero });
    harness.listRuns.mockResolvedValue([summary]);
    harness.socket = new FakeSocket(() => ({
      type: 'subscribed',
      run: summary,
      metrics: [evaluatedPoint(zero)],
      workers: [],
    }));
    render(<Dashboard token="tok" onChangeToken={vi.fn()} />);
    await waitFor(() => {
      expect(headerAccuracy()).toContain('0.0%');
    });
    expect(listAccuracy()).toBe('0.0%');
  });
});
