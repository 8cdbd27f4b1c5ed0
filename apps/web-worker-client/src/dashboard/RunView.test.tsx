import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type * as ApiModule from '../shared/api.js';
import { ApiError } from '../shared/api.js';
import { FakeSocket } from './test-support/fake-socket.js';
import { point, run, worker } from './test-support/fixtures.js';

// No canvas in happy-dom: the chart wrapper has its own test.
vi.mock('./UplotChart.js', () => ({
  UplotChart: ({ testId }: { testId?: string }) => <div data-testid={testId} />,
}));

const api = vi.hoisted(() => ({ stopRun: vi.fn(), fetchExportFile: vi.fn() }));
vi.mock('../shared/api.js', async (importOriginal) => ({
  ...(await importOriginal<typeof ApiModule>()),
  stopRun: api.stopRun,
  fetchExportFile: api.fetchExportFile,
}));

const { RunView } = await import('./RunView.js');

function subscribedSocket(): FakeSocket {
  return new FakeSocket(() => ({
    type: 'subscribed',
    run: run({ version: 40 }),
    metrics: [point({ at: 1, version: 40, testAccuracy: 0.5, testLoss: 1.2 })],
    workers: [
      worker({ workerId: 'w-1', backend: 'webgpu' }),
      worker({ workerId: 'w-2', backend: 'wasm' }),
    ],
  }));
}

function renderView(socket: FakeSocket, onUnauthorized = vi.fn()) {
  render(
    <RunView
      socket={socket.asSocket()}
      runId="run-1"
      token="tok"
      onUnauthorized={onUnauthorized}
      onStopped={vi.fn()}
    />,
  );
  return { onUnauthorized };
}

beforeEach(() => {
  api.stopRun.mockReset();
  api.fetchExportFile.mockReset();
});
afterEach(cleanup);

describe('RunView', () => {
  it('subscribes, then shows the version, workers and charts', async () => {
    const socket = subscribedSocket();
    renderView(socket);
    expect(socket.requests).toEqual([
      { event: 'subscribe', message: { type: 'subscribe', runId: 'run-1' } },
    ]);
    await waitFor(() => {
      expect(screen.getByTestId('run-version').dataset.value).toBe('40');
    });
    expect(screen.getAllByTestId('worker-row').map((row) => row.dataset.backend)).toEqual([
      'webgpu',
      'wasm',
    ]);
    expect(screen.getByTestId('chart-accuracy')).toBeDefined();
    expect(screen.getByTestId('run-view').dataset.runId).toBe('run-1');
  });

  it('shows a storage fault from the run summary, and its end', async () => {
    const socket = subscribedSocket();
    renderView(socket);
    await waitFor(() => {
      expect(screen.getByTestId('run-version').dataset.value).toBe('40');
    });
    expect(screen.queryByTestId('run-fault')).toBeNull();
    act(() => {
      socket.deliver('run-status', {
        type: 'run-status',
        run: run({
          version: 40,
          fault: {
            code: 'storage-unavailable',
            message: 'checkpoint: ENOSPC: no space left on device',
            since: 1_700_000_000_000,
          },
        }),
      });
    });
    expect(screen.getByTestId('run-fault').textContent).toContain('ENOSPC');
    act(() => {
      socket.deliver('run-status', { type: 'run-status', run: run({ version: 41 }) });
    });
    expect(screen.queryByTestId('run-fault')).toBeNull();
  });

  it('follows metrics and run-status notices, and drops invalid ones with a warning', async () => {
    const socket = subscribedSocket();
    renderView(socket);
    await waitFor(() => {
      expect(screen.getByTestId('run-version').dataset.value).toBe('40');
    });
    act(() => {
      socket.deliver('metrics', point({ at: 2, version: 55 }));
    });
    expect(screen.getByTestId('run-version').dataset.value).toBe('55');
    act(() => {
      socket.deliver('metrics', { ...point({ at: 3 }), version: -1 });
    });
    expect(screen.getByTestId('run-version').dataset.value).toBe('55');
    expect(screen.getByText(/ignored invalid metrics/)).toBeDefined();
    act(() => {
      socket.deliver('run-status', {
        type: 'run-status',
        run: run({ status: 'stopped', version: 60 }),
      });
    });
    expect(screen.getByTestId('run-version').dataset.value).toBe('60');
    expect(screen.getByTestId<HTMLButtonElement>('stop-run').disabled).toBe(true);
  });

  it('shows why the subscription failed', async () => {
    const socket = new FakeSocket(() => ({
      type: 'error',
      code: 'not-found',
      message: 'no run run-1',
    }));
    renderView(socket);
    expect((await screen.findByRole('alert')).textContent).toContain('no run run-1');
  });

  it('reports a refused token when stopping', async () => {
    api.stopRun.mockRejectedValue(
      new ApiError(401, 'unauthorized', 'this action needs the researcher token'),
    );
    const { onUnauthorized } = renderView(subscribedSocket());
    await waitFor(() => {
      expect(screen.getByTestId<HTMLButtonElement>('stop-run').disabled).toBe(false);
    });
    fireEvent.click(screen.getByTestId('stop-run'));
    expect((await screen.findByTestId('stop-run-error')).textContent).toContain(
      'Wrong researcher token',
    );
    expect(api.stopRun).toHaveBeenCalledWith('tok', 'run-1');
    expect(onUnauthorized).toHaveBeenCalledOnce();
  });

  it('downloads an export file under its base name', async () => {
    api.fetchExportFile.mockResolvedValue(new Blob(['{}']));
    const createObjectURL = vi.fn(() => 'blob:export');
    URL.createObjectURL = createObjectURL;
    URL.revokeObjectURL = vi.fn();
    const clicked: string[] = [];
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (
      this: HTMLAnchorElement,
    ) {
      clicked.push(`${this.download} ${this.href}`);
    });
    renderView(subscribedSocket());
    const button = screen
      .getAllByTestId('export-file')
      .find((element) => element.dataset.file === 'tfjs/model.json');
    if (button === undefined) throw new Error('no model.json export');
    fireEvent.click(button);
    await waitFor(() => {
      expect(clicked).toEqual(['model.json blob:export']);
    });
    expect(api.fetchExportFile).toHaveBeenCalledWith('tok', 'run-1', 'tfjs/model.json');
    click.mockRestore();
  });
});
