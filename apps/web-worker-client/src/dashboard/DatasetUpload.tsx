import type { DatasetDescription } from '@vtrain/protocol';
import { useCallback, useEffect, useState } from 'react';
import { deleteDataset, listDatasets, uploadDataset } from '../shared/api.js';
import { describeError, isUnauthorized } from './errors.js';
import { formatBytes } from './format.js';

export interface DatasetUploadProps {
  readonly token: string;
  readonly onUnauthorized: () => void;
  /** Told of each set uploaded (the launch form can select it: `dataset.id`). */
  readonly onUploaded?: (dataset: DatasetDescription) => void;
}

type UploadState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'uploading'; readonly fileName: string; readonly bytes: number }
  | { readonly kind: 'done'; readonly dataset: DatasetDescription }
  | { readonly kind: 'failed'; readonly message: string };

/** "1,350 train / 150 held out, [20] f32, 3 classes": a set in one line. */
export function describeDataset(dataset: DatasetDescription): string {
  const test = dataset.testSet === 'file' ? 'test' : 'held out';
  return `${dataset.examples.toLocaleString('en-US')} train / ${dataset.testExamples.toLocaleString('en-US')} ${test}, [${dataset.inputShape.join(', ')}] ${dataset.inputDtype}, ${dataset.classes} classes`;
}

/**
 * Bring your own data: uploads a safetensors file (`x`, `y`, optional `test_x`, `test_y`;
 * docs/api.md#data-sets) with the researcher token, says what the coordinator found in it or
 * why it refused it, and lists the uploaded sets with the id a run config names
 * (`"dataset": { "name": "upload", "id": ... }`).
 */
export function DatasetUpload({ token, onUnauthorized, onUploaded }: DatasetUploadProps) {
  const [file, setFile] = useState<File | undefined>(undefined);
  const [name, setName] = useState('');
  const [state, setState] = useState<UploadState>({ kind: 'idle' });
  const [datasets, setDatasets] = useState<readonly DatasetDescription[] | undefined>(undefined);
  const [listError, setListError] = useState<string | undefined>(undefined);

  const fail = useCallback(
    (failure: unknown): string => {
      if (isUnauthorized(failure)) onUnauthorized();
      return describeError(failure);
    },
    [onUnauthorized],
  );

  const refresh = useCallback(() => {
    listDatasets().then(
      (list) => {
        setDatasets(list);
        setListError(undefined);
      },
      (failure: unknown) => {
        setListError(`Listing data sets failed: ${fail(failure)}`);
      },
    );
  }, [fail]);

  useEffect(refresh, [refresh]);

  const upload = (): void => {
    if (!file) return;
    setState({ kind: 'uploading', fileName: file.name, bytes: file.size });
    uploadDataset(token, file, name).then(
      (dataset) => {
        setState({ kind: 'done', dataset });
        onUploaded?.(dataset);
        refresh();
      },
      (failure: unknown) => {
        setState({ kind: 'failed', message: `Upload refused: ${fail(failure)}` });
      },
    );
  };

  const remove = (dataset: DatasetDescription): void => {
    deleteDataset(token, dataset.id).then(refresh, (failure: unknown) => {
      setListError(`Deleting "${dataset.name}" failed: ${fail(failure)}`);
    });
  };

  return (
    <section className="card dataset-upload" data-testid="dataset-upload">
      <h2>Data sets</h2>
      <p className="muted">
        Upload one <code>.safetensors</code> file: <code>x</code> (N, ...) F32 or U8 and{' '}
        <code>y</code> (N,) U8/I32/I64 labels 0..C-1, optionally <code>test_x</code>,{' '}
        <code>test_y</code> (else 10% of <code>x</code> is held out).
      </p>
      <div className="dataset-form">
        <input
          type="file"
          accept=".safetensors,application/octet-stream"
          aria-label="safetensors file"
          data-testid="dataset-file"
          onChange={(event) => {
            const chosen = event.target.files?.[0];
            setFile(chosen);
            if (chosen && name === '') setName(chosen.name.replace(/\.safetensors$/, ''));
          }}
        />
        <input
          type="text"
          placeholder="name"
          aria-label="data set name"
          maxLength={100}
          value={name}
          data-testid="dataset-name"
          onChange={(event) => {
            setName(event.target.value);
          }}
        />
        <button
          type="button"
          className="primary"
          data-testid="dataset-submit"
          disabled={!file || state.kind === 'uploading'}
          onClick={upload}
        >
          {state.kind === 'uploading' ? 'Uploading...' : 'Upload'}
        </button>
      </div>
      {state.kind === 'uploading' ? (
        <p className="muted" data-testid="dataset-status">
          Sending {state.fileName} ({formatBytes(state.bytes)})...
        </p>
      ) : state.kind === 'done' ? (
        <p data-testid="dataset-status">
          Uploaded &quot;{state.dataset.name}&quot;: {describeDataset(state.dataset)}. Train on it
          with <code>{`"dataset": { "name": "upload", "id": "${state.dataset.id}" }`}</code>.
        </p>
      ) : state.kind === 'failed' ? (
        <p className="error" role="alert" data-testid="dataset-error">
          {state.message}
        </p>
      ) : null}
      {listError === undefined ? null : (
        <p className="error" role="alert" data-testid="dataset-list-error">
          {listError}
        </p>
      )}
      {datasets === undefined ? null : datasets.length === 0 ? (
        <p className="muted">No data set uploaded yet.</p>
      ) : (
        <table className="table" data-testid="dataset-list">
          <thead>
            <tr>
              <th>name</th>
              <th>id</th>
              <th>contents</th>
              <th>size</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {datasets.map((dataset) => (
              <tr key={dataset.id} data-testid="dataset-row" data-id={dataset.id}>
                <td>{dataset.name}</td>
                <td>
                  <code title={`SHA-256 ${dataset.sha256}`}>{dataset.id}</code>
                </td>
                <td>{describeDataset(dataset)}</td>
                <td>{formatBytes(dataset.bytes)}</td>
                <td>
                  <button
                    type="button"
                    className="link-button"
                    data-testid="dataset-delete"
                    onClick={() => {
                      remove(dataset);
                    }}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
