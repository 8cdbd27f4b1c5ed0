import { useState } from 'react';
import { EXPORT_FILE_NAMES, type ExportFileName } from '@vtrain/protocol';
import { fetchExportFile } from '../shared/api.js';
import { baseName, saveBlob } from './download.js';
import { describeError, isUnauthorized } from './errors.js';

export interface ExportButtonsProps {
  readonly runId: string;
  readonly token: string;
  readonly onUnauthorized: () => void;
}

const LABELS: Record<ExportFileName, string> = {
  'tfjs/model.json': 'tfjs model.json',
  'tfjs/weights.bin': 'tfjs weights.bin',
  'model.safetensors': 'safetensors',
  'manifest.json': 'manifest',
};

/** Downloads the run's export files (current weights; the final ones once it ended). */
export function ExportButtons({ runId, token, onUnauthorized }: ExportButtonsProps) {
  const [pending, setPending] = useState<ExportFileName | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);

  const download = (file: ExportFileName): void => {
    setPending(file);
    setError(undefined);
    fetchExportFile(token, runId, file).then(
      (blob) => {
        setPending(undefined);
        saveBlob(blob, baseName(file));
      },
      (failure: unknown) => {
        setPending(undefined);
        setError(`Export of ${file} failed: ${describeError(failure)}`);
        if (isUnauthorized(failure)) onUnauthorized();
      },
    );
  };

  return (
    <div className="exports">
      <span className="muted">Export:</span>
      {EXPORT_FILE_NAMES.map((file) => (
        <button
          key={file}
          type="button"
          data-testid="export-file"
          data-file={file}
          disabled={pending === file}
          title={`download ${file}`}
          onClick={() => {
            download(file);
          }}
        >
          {pending === file ? 'downloading...' : LABELS[file]}
        </button>
      ))}
      {error === undefined ? null : (
        <span className="error" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}
