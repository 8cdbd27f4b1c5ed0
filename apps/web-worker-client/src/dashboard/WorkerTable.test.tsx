import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { worker } from './test-support/fixtures.js';
import { WorkerTable } from './WorkerTable.js';

afterEach(cleanup);

describe('WorkerTable', () => {
  it('shows browser family, OS and backend per worker, and no user agent', () => {
    render(
      <WorkerTable
        count={2}
        workers={[
          worker({
            workerId: 'aaaaaaaa-1',
            browser: 'Firefox 133',
            os: 'Windows',
            backend: 'wasm',
          }),
          worker({
            workerId: 'bbbbbbbb-2',
            kind: 'node',
            browser: 'Node.js 20',
            os: 'Linux',
            backend: 'cpu',
          }),
        ]}
      />,
    );
    const rows = screen.getAllByTestId('worker-row');
    expect(rows.map((row) => row.dataset.backend)).toEqual(['wasm', 'cpu']);
    const cells = rows.map((row) => [...row.querySelectorAll('td')].map((td) => td.textContent));
    expect(cells[0]?.slice(0, 4)).toEqual(['aaaaaaaa', 'Firefox 133', 'Windows', 'wasm']);
    expect(cells[1]?.slice(0, 4)).toEqual(['bbbbbbbb', 'Node.js 20', 'Linux', 'cpu']);
    const headers = [...document.querySelectorAll('th')].map((th) => th.textContent);
    expect(headers.slice(0, 4)).toEqual(['worker', 'browser', 'OS', 'backend']);
  });

  it('marks unknown families instead of leaving blanks', () => {
    render(<WorkerTable count={1} workers={[worker({ browser: '', os: '' })]} />);
    const cells = [...screen.getByTestId('worker-row').querySelectorAll('td')].map(
      (td) => td.textContent,
    );
    expect(cells.slice(1, 3)).toEqual(['browser (unknown)', '–']);
  });

  it('shows only the count when the coordinator withheld the rows (no researcher token)', () => {
    render(<WorkerTable count={3} workers={undefined} />);
    expect(screen.queryAllByTestId('worker-row')).toHaveLength(0);
    expect(screen.getByTestId('worker-count').textContent).toMatch(
      /^3 workers connected\..*researcher token/,
    );
  });

  it('says when no worker has joined', () => {
    render(<WorkerTable count={0} workers={[]} />);
    expect(screen.getByText('No worker has joined this run yet.')).toBeDefined();
  });
});
