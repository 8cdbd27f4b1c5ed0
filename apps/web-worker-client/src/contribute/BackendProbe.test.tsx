import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BackendProbeReport } from '../engine/engine-messages.js';
import { BackendProbe } from './BackendProbe.js';

afterEach(cleanup);

const probed: BackendProbeReport = {
  key: 'k',
  label: 'mlp [128] on mnist, batch 64',
  source: 'probed',
  choice: {
    name: 'wasm',
    reason:
      'WebGPU is a software adapter here (SwiftShader); wasm is faster (9.6 vs 114 ms per step)',
  },
  measurements: [
    { name: 'webgpu', outcome: 'measured', msPerStep: 114, steps: 3, firstStepMs: 7859 },
    { name: 'webgl', outcome: 'failed', reason: 'no OffscreenCanvas in a Web Worker here' },
    { name: 'wasm', outcome: 'measured', msPerStep: 9.6, steps: 5, firstStepMs: 145 },
    { name: 'cpu', outcome: 'over-budget', firstStepMs: 4000 },
  ],
  measuredAt: 0,
};

describe('BackendProbe', () => {
  it('shows nothing before a probe', () => {
    const { container } = render(
      <BackendProbe probing={undefined} report={undefined} onMeasureAgain={vi.fn()} />,
    );
    expect(container.innerHTML).toBe('');
  });

  it('says it is measuring', () => {
    render(<BackendProbe probing="mlp [16]" report={undefined} onMeasureAgain={vi.fn()} />);
    const panel = screen.getByTestId('backend-probe');
    expect(panel.dataset.source).toBe('probing');
    expect(panel.textContent).toContain('Measuring the compute backends on mlp [16]');
  });

  it('lists every backend with its time or why it has none, and measures again on request', () => {
    const onMeasureAgain = vi.fn();
    render(<BackendProbe probing={undefined} report={probed} onMeasureAgain={onMeasureAgain} />);
    expect(screen.getByTestId('backend-probe').dataset.choice).toBe('wasm');
    const rows = screen.getAllByTestId('probe-row');
    expect(rows.map((row) => row.textContent)).toEqual([
      'webgpu114 ms per step (median of 3; first step 7859 ms)',
      'webglunavailable: no OffscreenCanvas in a Web Worker here',
      'wasm9.6 ms per step (median of 5; first step 145 ms)',
      "cpunot timed: the first step took 4000 ms, over the probe's budget",
    ]);
    expect(rows[2]?.className).toBe('chosen');
    expect(rows[2]?.dataset.ms).toBe('9.6');
    fireEvent.click(screen.getByTestId('measure-again'));
    expect(onMeasureAgain).toHaveBeenCalledOnce();
  });

  it('says when the times come from an earlier visit, and when a backend was forced', () => {
    render(
      <BackendProbe
        probing={undefined}
        report={{ ...probed, source: 'cached' }}
        onMeasureAgain={vi.fn()}
      />,
    );
    expect(screen.getByTestId('backend-probe').textContent).toContain('earlier visit');
    cleanup();
    render(
      <BackendProbe
        probing={undefined}
        report={{
          ...probed,
          source: 'forced',
          choice: { name: 'webgpu', reason: "forced by the page's ?backend=webgpu" },
          measurements: [],
        }}
        onMeasureAgain={vi.fn()}
      />,
    );
    const panel = screen.getByTestId('backend-probe');
    expect(panel.dataset.source).toBe('forced');
    expect(panel.textContent).toContain('?backend=webgpu');
    expect(screen.queryAllByTestId('probe-row')).toHaveLength(0);
  });
});
