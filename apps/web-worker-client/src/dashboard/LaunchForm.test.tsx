import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type * as ApiModule from '../shared/api.js';
import { ApiError } from '../shared/api.js';

const api = vi.hoisted(() => ({ createRun: vi.fn() }));
vi.mock('../shared/api.js', async (importOriginal) => ({
  ...(await importOriginal<typeof ApiModule>()),
  createRun: api.createRun,
}));

const { LaunchForm } = await import('./LaunchForm.js');

function renderForm() {
  const props = { token: 'tok', onUnauthorized: vi.fn(), onLaunched: vi.fn() };
  const { container } = render(<LaunchForm {...props} />);
  const form = container.querySelector('form');
  const name = container.querySelector('#root_name');
  if (form === null || name === null) throw new Error('no form');
  return { ...props, form, name };
}

beforeEach(() => {
  api.createRun.mockReset();
});
afterEach(cleanup);

describe('LaunchForm', () => {
  it('sends the whole config, defaults filled in, and opens the new run', async () => {
    api.createRun.mockResolvedValue('new-run');
    const { form, name, onLaunched } = renderForm();
    fireEvent.change(name, { target: { value: 'density sweep' } });
    fireEvent.submit(form);
    await waitFor(() => {
      expect(onLaunched).toHaveBeenCalledWith('new-run');
    });
    const [token, config] = api.createRun.mock.calls[0] as [string, Record<string, unknown>];
    expect(token).toBe('tok');
    expect(config).toMatchObject({
      name: 'density sweep',
      compression: { density: 0.01, errorFeedback: true },
      schedule: { kind: 'hybrid', threshold: { shape: 'linear', horizon: 600 } },
      stop: { targetAccuracy: 0.97 },
    });
  });

  it("shows each of the server's issues in the list and under its field", async () => {
    api.createRun.mockRejectedValue(
      new ApiError(400, 'invalid-run-config', 'invalid run config', [
        { path: 'name', message: 'Too small: expected string to have >=1 characters' },
        { path: 'compression.density', message: 'Too big: expected number to be <=1' },
      ]),
    );
    const { form } = renderForm();
    fireEvent.submit(form);
    const issues = await screen.findAllByTestId('launch-issue');
    expect(issues.map((issue) => issue.dataset.path)).toEqual(['name', 'compression.density']);
    // Once in the list, once beside the field.
    expect(screen.getAllByText(/Too big: expected number to be <=1/)).toHaveLength(2);
  });

  it('reports a refused token', async () => {
    api.createRun.mockRejectedValue(
      new ApiError(401, 'unauthorized', 'needs the researcher token'),
    );
    const { form, onUnauthorized } = renderForm();
    fireEvent.submit(form);
    expect((await screen.findByTestId('launch-error')).textContent).toContain(
      'Wrong researcher token',
    );
    expect(onUnauthorized).toHaveBeenCalledOnce();
  });
});
