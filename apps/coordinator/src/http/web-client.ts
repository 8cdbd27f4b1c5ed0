import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/**
 * Serves the built web client (apps/web-worker-client/dist): `/` is the
 * contribute page, `/dashboard/` the researcher dashboard, `/assets/*` their
 * content-hashed bundles. Without a build, the pages answer 503 with the
 * command that makes one, and the API keeps working.
 */
export function serveWebClient(app: FastifyInstance, webRoot: string | undefined): void {
  if (webRoot === undefined || !existsSync(join(webRoot, 'index.html'))) {
    const notBuilt = {
      error: 'web-client-not-built',
      message: `the web client is not built${webRoot === undefined ? '' : ` in ${webRoot}`}: run "pnpm build" (or "pnpm start", which builds it)`,
    };
    for (const path of ['/', '/dashboard', '/dashboard/']) {
      app.get(path, async (_request, reply) => reply.code(503).send(notBuilt));
    }
    return;
  }
  // Fastify loads plugins in order when the server starts; nothing to await here.
  void app.register(fastifyStatic, {
    root: webRoot,
    index: ['index.html'],
    // `/dashboard` -> `/dashboard/`, so the page's relative URLs resolve the same either way.
    redirect: true,
    cacheControl: false,
    setHeaders: (reply, path) => {
      // Bundles carry a content hash in their names; pages must be revalidated to pick up new ones.
      reply.header(
        'cache-control',
        path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
}
