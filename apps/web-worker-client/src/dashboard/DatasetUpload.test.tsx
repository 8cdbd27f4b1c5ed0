import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import type { DatasetDescription } from '@vtrain/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type * as ApiModule from '../shared/api.js';
import { ApiError } from '../shared/api.js';

const api = vi.hoisted(() => ({
  listDatasets: vi.fn<() => Promise<DatasetDescription[]>>(),
  uploadDataset: vi.fn<(token: string, file: Blob, name: string) => Promise<DatasetDescription>>(),
  deleteDataset: vi.fn<(token: string, id: string) => Promise<void>>(),
}));
vi.mock('../shared/api.js', async (importOriginal) => ({
  ...(await importOriginal<typeof ApiModule>()),
  ...api,
}));

const { DatasetUpload, describeDataset } = await import('./DatasetUpload.js');
const realApi = await vi.importActual<typeof ApiModule>('../shared/api.js');

const blobs: DatasetDescription = {
  id: '0f8fad5b-d9cb-469f-a165-70867728950e',
  name: 'blobs',
  examples: 1350,
  testExamples: 150,
  testSet: 'held-out',
  inputShape: [20],
  inputDtype: 'f32',
  classes: 3,
  bytes: 126_152,
  sha256: 'a'.repeat(64),
  createdAt: 1,
};

beforeEach(() => {
  api.listDatasets.mockReset();
  api.uploadDataset.mockReset();
  api.deleteDataset.mockReset();
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function chooseFile(name: string): File {
  const file = new File([new Uint8Array([1, 2, 3])], name);
  fireEvent.change(screen.getByTestId('dataset-file'), { target: { files: [file] } });
  return file;
}

describe('DatasetUpload', () => {
  it('uploads the chosen file under its name, says what it holds and lists it', async () => {
    api.listDatasets.mockResolvedValueOnce([]).mockResolvedValueOnce([blobs]);
    api.uploadDataset.mockResolvedValue(blobs);
    const onUploaded = vi.fn();
    render(<DatasetUpload token="t0k" onUnauthorized={vi.fn()} onUploaded={onUploaded} />);
    expect(await screen.findByText('No data set uploaded yet.')).toBeTruthy();
    const submit = screen.getByTestId<HTMLButtonElement>('dataset-submit');
    expect(submit.disabled).toBe(true);
    const file = chooseFile('blobs.safetensors');
    expect(screen.getByTestId<HTMLInputElement>('dataset-name').value).toBe('blobs');
    fireEvent.click(submit);
    const status = await screen.findByText(/Uploaded "blobs"/);
    expect(api.uploadDataset).toHaveBeenCalledWith('t0k', file, 'blobs');
    expect(status.textContent).toContain('1,350 train / 150 held out, [20] f32, 3 classes');
    expect(status.textContent).toContain(`"id": "${blobs.id}"`);
    expect(onUploaded).toHaveBeenCalledWith(blobs);
    const rows = await screen.findAllByTestId('dataset-row');
    expect(rows.map((row) => row.dataset.id)).toEqual([blobs.id]);
  });

  it("shows the coordinator's refusal, and hands a 401 to the token gate", async () => {
    api.listDatasets.mockResolvedValue([]);
    const onUnauthorized = vi.fn();
    api.uploadDataset
      .mockRejectedValueOnce(
        new ApiError(400, 'invalid-dataset', 'label-out-of-range: ... (y[2] is -1)'),
      )
      .mockRejectedValueOnce(new ApiError(401, 'unauthorized', 'this action needs the token'));
    render(<DatasetUpload token="t0k" onUnauthorized={onUnauthorized} />);
    chooseFile('bad.safetensors');
    fireEvent.click(screen.getByTestId('dataset-submit'));
    const error = await screen.findByTestId('dataset-error');
    expect(error.textContent).toBe(
      'Upload refused: label-out-of-range: ... (y[2] is -1) (HTTP 400, invalid-dataset)',
    );
    expect(onUnauthorized).not.toHaveBeenCalled();
    fireEvent.click(screen.getByTestId('dataset-submit'));
    await waitFor(() => {
      expect(onUnauthorized).toHaveBeenCalledTimes(1);
    });
  });

  it('deletes a set, and says why the coordinator would not', async () => {
    api.listDatasets.mockResolvedValue([blobs]);
    api.deleteDataset.mockRejectedValueOnce(
      new ApiError(409, 'dataset-in-use', 'an active run trains on data set x: stop it first'),
    );
    render(<DatasetUpload token="t0k" onUnauthorized={vi.fn()} />);
    fireEvent.click(await screen.findByTestId('dataset-delete'));
    expect((await screen.findByTestId('dataset-list-error')).textContent).toContain(
      'Deleting "blobs" failed: an active run trains on data set x: stop it first (HTTP 409',
    );
    expect(api.deleteDataset).toHaveBeenCalledWith('t0k', blobs.id);
  });

  it('describes a set with its own test split', () => {
    expect(describeDataset({ ...blobs, testSet: 'file', inputShape: [12, 12, 1] })).toBe(
      '1,350 train / 150 test, [12, 12, 1] f32, 3 classes',
    );
  });
});

describe('uploadDataset (the API client)', () => {
  it('POSTs the file as application/octet-stream with the token and name, and checks the answer', async () => {
    const fetch = vi.fn<typeof globalThis.fetch>(() =>
      Promise.resolve(new Response(JSON.stringify(blobs), { status: 201 })),
    );
    vi.stubGlobal('fetch', fetch);
    const file = new Blob([new Uint8Array([7, 8, 9])]);
    expect(await realApi.uploadDataset('t0k', file, ' my set ')).toEqual(blobs);
    const [url, init] = fetch.mock.calls[0] ?? [];
    expect(url).toBe('/api/datasets?name=my%20set');
    expect(init).toMatchObject({
      method: 'POST',
      headers: { authorization: 'Bearer t0k', 'content-type': 'application/octet-stream' },
      body: file,
    });
  });

  it('turns a 413 into an ApiError with the server code', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(() =>
        Promise.resolve(
          new Response(
            JSON.stringify({ error: 'dataset-too-large', message: 'too-large: (limit)' }),
            { status: 413 },
          ),
        ),
      ),
    );
    await expect(realApi.uploadDataset('t', new Blob([]), '')).rejects.toMatchObject({
      status: 413,
      code: 'dataset-too-large',
    });
  });
});
