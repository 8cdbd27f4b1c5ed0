import {
  DatasetDescriptionSchema,
  MetricsPointSchema,
  RunSummarySchema,
  type DatasetDescription,
  type ExportFileName,
  type FieldIssue,
  type MetricsPoint,
  type RunConfigInput,
  type RunSummary,
} from '@vtrain/protocol';
import * as z from 'zod';

/**
 * The coordinator's HTTP API (docs/api.md) as typed calls, same origin. Every
 * answer is validated with the protocol's schemas; every failure is an
 * {@link ApiError} carrying the server's code, message and field issues.
 */

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    /** HTTP status; 0 when the request never got an answer. */
    readonly status: number,
    /** The server's error code (`unauthorized`, `invalid-run-config`, ...), or `network`. */
    readonly code: string,
    message: string,
    /** One entry per invalid field, for a rejected run config. */
    readonly issues: readonly FieldIssue[] = [],
  ) {
    super(message);
  }
}

const ErrorBodySchema = z.object({
  error: z.string(),
  message: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

async function request(path: string, init: RequestInit = {}): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError(0, 'network', `cannot reach the coordinator: ${String(error)}`);
  }
  if (response.ok) return response;
  const body = ErrorBodySchema.safeParse(await response.json().catch(() => undefined));
  if (body.success) {
    throw new ApiError(response.status, body.data.error, body.data.message, body.data.issues);
  }
  throw new ApiError(
    response.status,
    'http',
    `${init.method ?? 'GET'} ${path}: HTTP ${response.status}`,
  );
}

async function getJson<S extends z.ZodType>(path: string, schema: S): Promise<z.output<S>> {
  const body: unknown = await (await request(path)).json();
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw new ApiError(
      200,
      'invalid-answer',
      `GET ${path}: unexpected answer: ${parsed.error.message}`,
    );
  }
  return parsed.data;
}

function researcher(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export function listRuns(): Promise<RunSummary[]> {
  return getJson('/api/runs', z.array(RunSummarySchema));
}

export function getRun(runId: string): Promise<RunSummary> {
  return getJson(`/api/runs/${encodeURIComponent(runId)}`, RunSummarySchema);
}

export function getMetrics(runId: string): Promise<MetricsPoint[]> {
  return getJson(`/api/runs/${encodeURIComponent(runId)}/metrics`, z.array(MetricsPointSchema));
}

/** Creates a run; a config the server refuses throws `invalid-run-config` with one issue per field. */
export async function createRun(token: string, config: RunConfigInput): Promise<string> {
  const response = await request('/api/runs', {
    method: 'POST',
    headers: { ...researcher(token), 'content-type': 'application/json' },
    body: JSON.stringify(config),
  });
  return z.object({ id: z.string() }).parse(await response.json()).id;
}

export async function stopRun(token: string, runId: string): Promise<void> {
  await request(`/api/runs/${encodeURIComponent(runId)}/stop`, {
    method: 'POST',
    headers: researcher(token),
  });
}

function exportUrl(runId: string, file: ExportFileName): string {
  return `/api/runs/${encodeURIComponent(runId)}/export/${file}`;
}

/** Downloads one export file as bytes; sends the token so it keeps working once exports are researcher-only. */
export async function fetchExportFile(
  token: string,
  runId: string,
  file: ExportFileName,
): Promise<Blob> {
  return (await request(exportUrl(runId, file), { headers: researcher(token) })).blob();
}

/** The data sets researchers uploaded (`GET /api/datasets`). */
export function listDatasets(): Promise<DatasetDescription[]> {
  return getJson('/api/datasets', z.array(DatasetDescriptionSchema));
}

/**
 * Uploads a safetensors data set file (`POST /api/datasets`, the file as the body, streamed
 * by the browser); a refused file throws `invalid-dataset` (HTTP 400, the message names the
 * problem) or `dataset-too-large` (413).
 */
export async function uploadDataset(
  token: string,
  file: Blob,
  name: string,
): Promise<DatasetDescription> {
  const query = name.trim() === '' ? '' : `?name=${encodeURIComponent(name.trim())}`;
  const response = await request(`/api/datasets${query}`, {
    method: 'POST',
    headers: { ...researcher(token), 'content-type': 'application/octet-stream' },
    body: file,
  });
  return DatasetDescriptionSchema.parse(await response.json());
}

/** Deletes an uploaded data set; `dataset-in-use` (409) while an active run trains on it. */
export async function deleteDataset(token: string, datasetId: string): Promise<void> {
  await request(`/api/datasets/${encodeURIComponent(datasetId)}`, {
    method: 'DELETE',
    headers: researcher(token),
  });
}
