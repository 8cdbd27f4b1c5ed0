import { PROTOCOL_VERSION, ValidationError, type Health } from '@vtrain/protocol';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { bearerToken, tokenMatches } from '../net/researcher-token.js';
import type { ExportFileName, ExportFiles } from '../export/export-run.js';
import type { OriginPolicy } from './origin-policy.js';
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
  /** Uploaded data sets (`/api/datasets`). */
  readonly uploads: DatasetStore;
  /** Whether the coordinator serves its runs (false while it shuts down); default always. */
  readonly ready?: () => boolean;
}

const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024;

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
export function buildHttpApp(options: HttpAppOptions): FastifyInstance {
  const { manager, token } = options;
  const app = Fastify({ bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT });
  const { originAllowed } = options;

  registerSecurityHeaders(app);
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

  const requireResearcher = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!tokenMatches(bearerToken(request.headers.authorization), token)) {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'unauthorized', message: 'this action needs the researcher token' });
    }
  };

  app.setErrorHandler(async (error, _request, reply) => {
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
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    return reply.code(status).send({
      error: status >= 500 ? 'internal' : 'bad-request',
      message: (error as Error).message,
    });
  });

  // The server listens only once runs are resumed and the demo run exists, so an answer
  // means ready; while shutting down it says not ready, with a status scripts can test.
  app.get('/api/health', async (_request, reply) => {
    const ready = options.ready?.() ?? true;
    const health: Health = { ok: ready, ready, protocolVersion: PROTOCOL_VERSION };
    return reply.code(ready ? 200 : 503).send(health);
  });

  app.get('/api/runs', () => manager.listRuns());

  app.post('/api/runs', { preHandler: requireResearcher }, async (request, reply) => {
    const id = await manager.createRun(request.body);
    return reply.code(201).send({ id });
  });

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
    { preHandler: requireResearcher },
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
      { preHandler: requireResearcher },
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
      { preHandler: requireResearcher },
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
    { preHandler: requireResearcher },
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
