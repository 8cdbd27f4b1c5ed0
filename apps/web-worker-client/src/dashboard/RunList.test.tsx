import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RunList } from './RunList.js';
import { run } from './test-support/fixtures.js';

afterEach(cleanup);

function renderList(overrides: Partial<Parameters<typeof RunList>[0]> = {}) {
  const onOpen = vi.fn<(runId: string) => void>();
  const onToggleCompared = vi.fn<(runId: string) => void>();
  const props = {
    onOpen,
    onToggleCompared,
    runs: [
      run({ id: 'a', name: 'first' }),
      run({ id: 'b', name: 'second', status: 'stopped' as const }),
    ],
    error: undefined,
    openRunId: 'a',
    compared: [],
    ...overrides,
  };
  render(<RunList {...props} />);
  return { onOpen, onToggleCompared };
}

describe('RunList', () => {
  it('marks each item with its run id and status', () => {
    renderList();
    const items = screen.getAllByTestId('run-item');
    expect(items.map((item) => [item.dataset.runId, item.dataset.status])).toEqual([
      ['a', 'active'],
      ['b', 'stopped'],
    ]);
  });

  it('opens a run on a click anywhere on its item', () => {
    const props = renderList();
    const second = screen.getAllByTestId('run-item')[1];
    if (second === undefined) throw new Error('no second item');
    fireEvent.click(second);
    fireEvent.click(screen.getByText('first'));
    expect(props.onOpen.mock.calls).toEqual([['b'], ['a']]);
  });

  it('ticks a run for comparison without opening it', () => {
    const props = renderList();
    fireEvent.click(screen.getByLabelText('compare second'));
    expect(props.onToggleCompared).toHaveBeenCalledWith('b');
    expect(props.onOpen).not.toHaveBeenCalled();
  });

  it('shows a loading error', () => {
    renderList({ runs: undefined, error: 'Cannot load the runs: Network error' });
    expect(screen.getByRole('alert').textContent).toContain('Network error');
  });
});
