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

/** What `GET /api/datasets` answers in a test: 404 (no such endpoint) unless a test says otherwise. */
let datasetsAnswer: () => Response;
const fetchMock = vi.fn((input: RequestInfo | URL) => {
  const url = input instanceof Request ? input.url : String(input);
  if (url.endsWith('/api/datasets')) return Promise.resolve(datasetsAnswer());
  return Promise.reject(new Error(`unexpected fetch ${url}`));
});

function renderForm() {
  const props = { token: 'tok', onUnauthorized: vi.fn(), onLaunched: vi.fn() };
  const { container } = render(<LaunchForm {...props} />);
  const form = screen.getByTestId('launch-form');
  const name = screen.getByTestId('launch-name');
  const advanced = screen.getByTestId<HTMLDetailsElement>('launch-advanced');
  const field = (id: string): HTMLInputElement => {
    const input = container.querySelector<HTMLInputElement>(`#${id}`);
    if (input === null) throw new Error(`no field ${id}`);
    return input;
  };
  const preset = (presetName: string): HTMLInputElement => {
    const input = container.querySelector<HTMLInputElement>(
      `[data-preset="${presetName}"] input[type="radio"]`,
    );
    if (input === null) throw new Error(`no preset ${presetName}`);
    return input;
  };
  const option = (group: string, value: string): HTMLInputElement => {
    const input = container.querySelector<HTMLInputElement>(
      `input[name="launch-${group}"][value="${value}"]`,
    );
    if (input === null) throw new Error(`no ${group} option ${value}`);
    return input;
  };
  return { ...props, form, name, advanced, field, preset, option };
}

async function sentConfig(): Promise<Record<string, unknown>> {
  await waitFor(() => {
    expect(api.createRun).toHaveBeenCalledOnce();
  });
  const [token, config] = api.createRun.mock.calls[0] as [string, Record<string, unknown>];
  expect(token).toBe('tok');
  return config;
}

beforeEach(() => {
  api.createRun.mockReset();
  fetchMock.mockClear();
  datasetsAnswer = () => new Response('{"error":"not-found"}', { status: 404 });
  vi.stubGlobal('fetch', fetchMock);
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('LaunchForm', () => {
  it('leads with the choices, Advanced closed, and launches the fastest recipe by default', async () => {
    api.createRun.mockResolvedValue('new-run');
    const { form, name, advanced, preset, onLaunched } = renderForm();
    expect(preset('fastest').checked).toBe(true);
    expect(screen.getAllByTestId('preset-option').map((card) => card.dataset.preset)).toEqual([
      'fastest',
      'smooth-switch',
      'lupa',
      'sparse-async',
      'robust',
    ]);
    expect(advanced.open).toBe(false);
    fireEvent.change(name, { target: { value: 'first try' } });
    fireEvent.submit(form);
    await waitFor(() => {
      expect(onLaunched).toHaveBeenCalledWith('new-run');
    });
    expect(await sentConfig()).toMatchObject({
      name: 'first try',
      dataset: { name: 'mnist', shards: 2 },
      model: { kind: 'mlp', hiddenUnits: [128] },
      training: { batchSize: 64, workerOptimizer: { kind: 'adam', learningRate: 0.005 } },
      compression: {
        density: 0.01,
        errorFeedback: true,
        valueFormat: 'f16',
        downstreamDensity: 0.1,
        downstreamValueFormat: 'f16',
      },
      schedule: { kind: 'local-sgd', period: { rule: 'fixed', steps: 50 } },
      stop: { targetAccuracy: 0.97, maxSeconds: 3600 },
    });
  });

  it('fills Advanced from the chosen recipe and resets it when the recipe changes', async () => {
    api.createRun.mockResolvedValue('new-run');
    const { form, name, field, preset } = renderForm();
    fireEvent.change(name, { target: { value: 'sparse' } });
    expect(field('root_training_batchSize').value).toBe('64');
    fireEvent.change(field('root_training_batchSize'), { target: { value: '7' } });
    await waitFor(() => {
      expect(field('root_training_batchSize').value).toBe('7');
    });

    fireEvent.click(preset('sparse-async'));
    await waitFor(() => {
      expect(field('root_training_batchSize').value).toBe('32');
    });
    expect(field('root_compression_density').value).toBe('0.001');
    expect(screen.getByTestId('launch-advanced').textContent).toContain('Sparse asynchronous SGD');
    fireEvent.submit(form);
    const config = await sentConfig();
    // Optional and off in the recipe: not sent, though its fields have defaults.
    expect(config).not.toHaveProperty('contributionCap');
    expect(config).toMatchObject({
      name: 'sparse',
      training: { batchSize: 32, workerOptimizer: { kind: 'sgd', learningRate: 0.2 } },
      compression: { density: 0.001, errorFeedback: true },
      schedule: { kind: 'async', staleness: { maxStaleness: 64, damping: 'none' } },
    });
  });

  it('sends the data set and model chosen at the top, and keeps them across recipes', async () => {
    api.createRun.mockResolvedValue('new-run');
    const { form, name, option, preset } = renderForm();
    fireEvent.change(name, { target: { value: 'cnn on synthetic' } });
    fireEvent.click(option('dataset', 'synthetic'));
    fireEvent.click(option('model', 'cnn'));
    fireEvent.click(preset('robust'));
    await waitFor(() => {
      expect(option('model', 'cnn').checked).toBe(true);
    });
    expect(option('dataset', 'synthetic').checked).toBe(true);
    fireEvent.submit(form);
    expect(await sentConfig()).toMatchObject({
      name: 'cnn on synthetic',
      dataset: { name: 'synthetic' },
      model: { kind: 'cnn', filters: [8, 16] },
      aggregation: { rule: 'norm-filter', factor: 3 },
      contributionCap: { window: 64, slack: 2 },
    });
  });

  it('checks the config before sending it: a missing name is shown under its input', async () => {
    const { form, advanced } = renderForm();
    fireEvent.submit(form);
    const issues = await screen.findAllByTestId('launch-issue');
    expect(issues.map((issue) => issue.dataset.path)).toEqual(['name']);
    expect(screen.getAllByText(/expected string to have >=1 characters/)).toHaveLength(2);
    expect(api.createRun).not.toHaveBeenCalled();
    // Nothing wrong under Advanced: it stays closed.
    expect(advanced.open).toBe(false);
  });

  it('opens Advanced to show an invalid setting beside its field', async () => {
    const { form, name, field, advanced } = renderForm();
    fireEvent.change(name, { target: { value: 'too dense' } });
    fireEvent.change(field('root_compression_density'), { target: { value: '2' } });
    fireEvent.submit(form);
    const issues = await screen.findAllByTestId('launch-issue');
    expect(issues.map((issue) => issue.dataset.path)).toEqual(['compression.density']);
    expect(advanced.open).toBe(true);
    expect(screen.getAllByText(/expected number to be <=1/)).toHaveLength(2);
    expect(api.createRun).not.toHaveBeenCalled();
  });

  it("shows the coordinator's own issues in the list and under their fields", async () => {
    api.createRun.mockRejectedValue(
      new ApiError(400, 'invalid-run-config', 'invalid run config', [
        { path: 'model.hiddenUnits', message: 'the model has too many parameters' },
      ]),
    );
    const { form, name, advanced } = renderForm();
    fireEvent.change(name, { target: { value: 'huge' } });
    fireEvent.submit(form);
    const issues = await screen.findAllByTestId('launch-issue');
    expect(issues.map((issue) => issue.dataset.path)).toEqual(['model.hiddenUnits']);
    expect(screen.getAllByText(/too many parameters/)).toHaveLength(2);
    expect(advanced.open).toBe(true);
  });

  it('reports a refused token', async () => {
    api.createRun.mockRejectedValue(
      new ApiError(401, 'unauthorized', 'needs the researcher token'),
    );
    const { form, name, onUnauthorized } = renderForm();
    fireEvent.change(name, { target: { value: 'x' } });
    fireEvent.submit(form);
    expect((await screen.findByTestId('launch-error')).textContent).toContain(
      'Wrong researcher token',
    );
    expect(onUnauthorized).toHaveBeenCalledOnce();
  });

  it('offers the uploaded data sets the coordinator lists, with their size', async () => {
    const id = '0b6c5a2e-3f4d-4e5a-9b8c-7d6e5f4a3b2c';
    datasetsAnswer = () =>
      new Response(
        JSON.stringify([
          {
            id,
            name: 'leaves',
            examples: 1000,
            testExamples: 100,
            testSet: 'held-out',
            inputShape: [20],
            inputDtype: 'f32',
            classes: 3,
            bytes: 80_000,
            sha256: 'ab'.repeat(32),
            createdAt: 0,
          },
        ]),
        { status: 200 },
      );
    const { option } = renderForm();
    await waitFor(() => {
      expect(option('dataset', `upload:${id}`).parentElement?.textContent).toContain(
        'leaves (1,000 examples, 3 classes) (uploaded)',
      );
    });
    expect(screen.queryByTestId('no-uploads')).toBeNull();
    // Choosing it sets `dataset: { name: 'upload', id }` (launch-form-model.test.ts).
  });

  it('says none are uploaded when the coordinator has no data-set list', async () => {
    renderForm();
    await waitFor(() => {
      expect(fetchMock).toHaveBeenCalled();
    });
    expect(screen.getByTestId('no-uploads').textContent).toBe('No uploaded data sets.');
    expect(
      screen.getAllByTestId('dataset-option').map((input) => input.getAttribute('value')),
    ).toEqual(['mnist', 'fashion-mnist', 'synthetic']);
  });
});
