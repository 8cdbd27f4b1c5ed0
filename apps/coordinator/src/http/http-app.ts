import { randomBytes } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import {
  expandRunPreset,
  PROTOCOL_VERSION,
  RUN_PRESETS,
  ValidationError,
  type Health,
} from '@vtrain/protocol';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { bearerToken, tokenMatches, type FailedTokenThrottle } from '../net/researcher-token.js';
import type { ExportFileName, ExportFiles } from '../export/export-run.js';
import { StoreError } from '../store/store-error.js';
import type { HostPolicy, OriginPolicy } from './origin-policy.js';
import { registerSecurityHeaders } from './security-headers.js';
import { serveWebClient } from './web-client.js';
import { DatasetFileError } from '../datasets/dataset-file.js';
import type { DatasetStore } from '../datasets/dataset-store.js';
import { RunSetupError } from '../runs/run-setup.js';
import type { RunManager } from '../runs/run-manager.js';

export interface HttpAppOptions {
  readonly manager: RunManager;
  readonly token: string;
  /** Files of a run's export by name ('tfjs/model.json', ...), or undefined for an unknown run. */
  readonly exportFiles: (runId: string) => Promise<ExportFiles | undefined>;
  /** The built web client (contribute page and dashboard); absent: the pages answer 503. */
  readonly webRoot?: string;
  /** Largest JSON body accepted (a run config with a custom topology). */
  readonly bodyLimit?: number;
  /** Which web origins may call the API (the same policy guards socket.io). */
  readonly originAllowed: OriginPolicy;
  /** Which `Host` names the coordinator answers to (against DNS rebinding; socket.io too). */
  readonly hostAllowed: HostPolicy;
  /** Wrong researcher tokens per address (shared with the dashboard socket). */
  readonly tokenThrottle: FailedTokenThrottle;
  /** Requests per minute one address may make (`HTTP_RATE_LIMIT`); 0 turns the limit off. */
  readonly requestsPerMinute?: number;
  /** Trust `X-Forwarded-For` from a reverse proxy for the client address (`TRUST_PROXY`). */
  readonly trustProxy?: boolean | string;
  /** Whether the coordinator's storage takes writes (false: disk full, I/O errors). */
  readonly storageOk?: () => boolean;
  /** Where internal errors go, with the reference their anonymous answer carries. */
  readonly log?: (message: string) => void;
  /** Uploaded data sets (`/api/datasets`). */
  readonly uploads: DatasetStore;
  /** Whether the coordinator serves its runs (false while it shuts down); default always. */
  readonly ready?: () => boolean;
}

const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024;

/**
 * Default requests per minute per client address: 20 a second, far above a page's needs
 * (the contribute page and the dashboard poll every few seconds, a worker fetches one
 * shard) yet a ceiling on what one address can make the coordinator do.
 */
export const DEFAULT_REQUESTS_PER_MINUTE = 1200;

/** Node errors that mean the host's storage, not the request: answered 503. */
const STORAGE_ERROR_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS']);

/** Export files and their content types, as served under /api/runs/:id/export/. */
const EXPORT_CONTENT_TYPES: Record<ExportFileName, string> = {
  'tfjs/model.json': 'application/json',
  'tfjs/weights.bin': 'application/octet-stream',
  'model.safetensors': 'application/octet-stream',
  'manifest.json': 'application/json',
};

interface RunParams {
  id: string;
}

/**
 * The HTTP API (docs/api.md): JSON, researcher actions behind
 * `Authorization: Bearer <token>`, typed errors as `{ error, message, issues? }`.
 */
export async function buildHttpApp(options: HttpAppOptions): Promise<FastifyInstance> {
  const { manager, token } = options;
  const app = Fastify({
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    trustProxy: options.trustProxy ?? false,
  });
  const { originAllowed, hostAllowed, tokenThrottle } = options;
  const log = options.log ?? (() => undefined);

  registerSecurityHeaders(app);
  // DNS rebinding: another site's name re-resolved to this machine passes the origin check
  // below (its page is "same origin"), but its requests name that site in `Host`.
  app.addHook('onRequest', async (request, reply) => {
    if (!hostAllowed(request.headers.host)) {
      return reply.code(403).send({
        error: 'forbidden-host',
        message: 'this Host is not a name of the coordinator (add it to ORIGINS)',
      });
    }
  });
  const requestsPerMinute = options.requestsPerMinute ?? DEFAULT_REQUESTS_PER_MINUTE;
  if (requestsPerMinute > 0) {
    // Per client address (request.ip; the proxy's X-Forwarded-For with TRUST_PROXY). Awaited:
    // the plugin limits the routes declared after it has loaded, i.e. all of them.
    await app.register(rateLimit, {
      max: requestsPerMinute,
      timeWindow: 60_000,
      hook: 'onRequest',
      errorResponseBuilder: (_request, context) => ({
        statusCode: 429,
        error: 'rate-limited',
        message: `more than ${context.max} requests a minute from this address; retry in ${context.after}`,
      }),
    });
  }
  // A page of another site must not use a visitor's browser against the API (its
  // session, its network position); allowed origins also get CORS headers to read answers.
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (!originAllowed(origin, request.headers.host)) {
      return reply
        .code(403)
        .send({ error: 'forbidden-origin', message: `origin ${origin ?? ''} is not allowed` });
    }
    if (origin !== undefined) {
      reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
    }
  });
  // CORS preflight of an allowed origin (the hook above already refused the others).
  app.options('/api/*', async (_request, reply) =>
    reply
      .code(204)
      .header('access-control-allow-methods', 'GET, POST, DELETE')
      .header('access-control-allow-headers', 'authorization, content-type')
      .header('access-control-max-age', '600')
      .send(),
  );

  // An onRequest hook: the token is checked before a byte of the body is read, so an
  // anonymous client cannot make the coordinator parse megabytes of JSON.
  const requireResearcher = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const address = request.ip;
    if (!tokenThrottle.allows(address)) {
      const seconds = tokenThrottle.retryAfterSeconds(address);
      await reply
        .code(429)
        .header('retry-after', String(seconds))
        .send({
          error: 'rate-limited',
          message: `too many wrong researcher tokens from this address; retry in ${seconds} s`,
        });
      return;
    }
    const presented = bearerToken(request.headers.authorization);
    if (!tokenMatches(presented, token)) {
      if (presented !== undefined) tokenThrottle.failed(address);
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'unauthorized', message: 'this action needs the researcher token' });
    }
  };

  app.setErrorHandler(async (error, request, reply) => {
    if (error instanceof ValidationError) {
      return reply
        .code(400)
        .send({ error: 'invalid-run-config', message: error.message, issues: error.issues });
    }
    if (error instanceof DatasetFileError) {
      return reply.code(error.code === 'too-large' ? 413 : 400).send({
        error: error.code === 'too-large' ? 'dataset-too-large' : 'invalid-dataset',
        code: error.code,
        message: error.message,
      });
    }
    if (error instanceof RunSetupError) {
      return reply.code(400).send({
        error: 'invalid-run-config',
        message: error.message,
        issues: [{ path: error.path, message: error.message }],
      });
    }
    const typed = error as { statusCode?: number; code?: unknown; error?: unknown };
    if (typed.statusCode === 429 && typed.error === 'rate-limited') {
      return reply.code(429).send({ error: 'rate-limited', message: (error as Error).message });
    }
    if (
      (error instanceof StoreError && error.code === 'storage-unavailable') ||
      (typeof typed.code === 'string' && STORAGE_ERROR_CODES.has(typed.code))
    ) {
      log(`storage unavailable during ${request.method} ${request.url}: ${String(error)}`);
      return reply.code(503).send({
        error: 'storage-unavailable',
        message: 'the coordinator cannot write to its storage right now (disk full?); try later',
      });
    }
    const status = typed.statusCode ?? 500;
    if (status < 500) {
      // Fastify's own 4xx (bad JSON, body too large): about the client's own request.
      return reply.code(status).send({ error: 'bad-request', message: (error as Error).message });
    }
    // Internal text (paths, SQL, stack) stays in the log; the client gets a reference to it.
    const ref = randomBytes(6).toString('hex');
    log(
      `internal error ${ref} on ${request.method} ${request.url}: ${(error as Error).stack ?? String(error)}`,
    );
    return reply.code(500).send({
      error: 'internal',
      message: `internal error (reference ${ref} in the coordinator log)`,
    });
  });

  // The server listens only once runs are resumed and the demo run exists, so an answer
  // means ready; while shutting down it says not ready, with a status scripts can test.
  app.get('/api/health', async (_request, reply) => {
    const ready = options.ready?.() ?? true;
    const health: Health = {
      ok: ready,
      ready,
      protocolVersion: PROTOCOL_VERSION,
      storage: (options.storageOk?.() ?? true) ? 'ok' : 'unavailable',
    };
    return reply.code(ready ? 200 : 503).send(health);
  });

  app.get('/api/runs', () => manager.listRuns());

  // `{ preset, ...overrides }` becomes the preset's config with the overrides merged in;
  // the result is validated like any other body. An unknown preset is a 400 at `preset`.
  app.post('/api/runs', { onRequest: requireResearcher }, async (request, reply) => {
    const id = await manager.createRun(expandRunPreset(request.body));
    return reply.code(201).send({ id });
  });

  app.get('/api/presets', () => RUN_PRESETS);

  app.get<{ Params: RunParams }>('/api/runs/:id', async (request, reply) => {
    const run = manager.getRun(request.params.id);
    return run ?? reply.code(404).send(notFound(request.params.id));
  });

  app.get<{ Params: RunParams }>('/api/runs/:id/metrics', async (request, reply) => {
    if (!manager.getRun(request.params.id))
      return reply.code(404).send(notFound(request.params.id));
    return manager.metrics(request.params.id);
  });

  app.post<{ Params: RunParams }>(
    '/api/runs/:id/stop',
    { onRequest: requireResearcher },
    async (request, reply) => {
      const stopped = await manager.stopRun(request.params.id);
      if (!stopped) return reply.code(404).send(notFound(request.params.id, 'no such active run'));
      return { ok: true, run: manager.getRun(request.params.id) };
    },
  );

  app.get<{ Params: RunParams & { index: string } }>(
    '/api/runs/:id/shards/:index',
    async (request, reply) => {
      const shard = manager.liveRun(request.params.id)?.shards[Number(request.params.index)];
      if (!/^\d+$/.test(request.params.index) || !shard) {
        return reply.code(404).send(notFound(request.params.id, 'no such shard of an active run'));
      }
      // A shard's content is fixed for the life of its run: browsers may cache it for good.
      return reply
        .header('content-type', 'application/octet-stream')
        .header('cache-control', 'public, max-age=31536000, immutable')
        .send(Buffer.from(shard.buffer, shard.byteOffset, shard.byteLength));
    },
  );

  for (const [file, contentType] of Object.entries(EXPORT_CONTENT_TYPES)) {
    // Exports are the researcher's results: token only (the dashboard sends it).
    app.get<{ Params: RunParams }>(
      `/api/runs/:id/export/${file}`,
      { onRequest: requireResearcher },
      async (request, reply) => {
        const files = await options.exportFiles(request.params.id);
        const bytes = files?.get(file as ExportFileName);
        if (!bytes) return reply.code(404).send(notFound(request.params.id));
        return reply
          .header('content-type', contentType)
          .header('cache-control', 'no-store')
          .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      },
    );
  }

  registerDatasetRoutes(app, options.uploads, manager, requireResearcher);

  serveWebClient(app, options.webRoot);
  return app;
}

/**
 * `/api/datasets`: upload (the body is a safetensors file, streamed to disk: never held in
 * memory), list, describe, delete. Uploads and deletions need the researcher token.
 */
function registerDatasetRoutes(
  app: FastifyInstance,
  uploads: DatasetStore,
  manager: RunManager,
  requireResearcher: (request: FastifyRequest, reply: FastifyReply) => Promise<void>,
): void {
  void app.register((scope, _options, done) => {
    // The body stays unread until the handler streams it to a file (bodyLimit does not apply).
    scope.addContentTypeParser('application/octet-stream', (_request, _payload, next) => {
      next(null);
    });
    scope.post<{ Querystring: { name?: string } }>(
      '/api/datasets',
      { onRequest: requireResearcher },
      async (request, reply) => {
        if (request.headers['content-type']?.split(';')[0]?.trim() !== 'application/octet-stream') {
          return reply.code(415).send({
            error: 'unsupported-media-type',
            message: 'send the safetensors file as application/octet-stream',
          });
        }
        const name = (request.query.name ?? '').trim() || 'dataset';
        if (name.length > 100) {
          request.raw.resume();
          return reply.code(400).send({
            error: 'invalid-dataset',
            code: 'bad-name',
            message: 'name: at most 100 characters',
          });
        }
        const length = request.headers['content-length'];
        const description = await uploads.upload(
          request.raw,
          name,
          length === undefined ? undefined : Number(length),
        );
        return reply.code(201).send(description);
      },
    );
    done();
  });

  app.get('/api/datasets', () => uploads.list());

  app.get<{ Params: RunParams }>('/api/datasets/:id', async (request, reply) => {
    const description = uploads.get(request.params.id);
    return description ?? reply.code(404).send(notFound(request.params.id, 'no such data set'));
  });

  app.delete<{ Params: RunParams }>(
    '/api/datasets/:id',
    { onRequest: requireResearcher },
    async (request, reply) => {
      const { id } = request.params;
      if (!uploads.get(id)) return reply.code(404).send(notFound(id, 'no such data set'));
      if (manager.datasetInUse(id)) {
        return reply.code(409).send({
          error: 'dataset-in-use',
          message: `an active run trains on data set ${id}: stop it first`,
        });
      }
      await uploads.remove(id);
      return { ok: true };
    },
  );
}

function notFound(id: string, message = 'no such run'): { error: string; message: string } {
  return { error: 'not-found', message: `${message}: ${id}` };
}
