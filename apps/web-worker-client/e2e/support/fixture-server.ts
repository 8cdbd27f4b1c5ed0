import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, preview } from 'vite';

const FIXTURES_ROOT = fileURLToPath(new URL('../fixtures', import.meta.url));

export interface FixtureServer {
  /** The fixture page, on localhost (a secure context: WebGPU needs one). */
  readonly url: string;
  close(): Promise<void>;
}

/** Builds e2e/fixtures with Vite (production mode, like the real pages) and serves it on a free port. */
export async function startFixtureServer(): Promise<FixtureServer> {
  const outDir = await mkdtemp(join(tmpdir(), 'vtrain-fixtures-'));
  const config = {
    configFile: false as const,
    root: FIXTURES_ROOT,
    logLevel: 'warn' as const,
    // tfjs with its backends is one large chunk; the fixtures are never served to users.
    build: { outDir, emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 8_000 },
    preview: { host: '127.0.0.1', port: 0, strictPort: false },
  };
  await build(config);
  const server = await preview(config);
  const url = server.resolvedUrls?.local[0];
  if (url === undefined) throw new Error('the fixture server did not report its URL');
  return {
    url,
    async close() {
      await server.close();
      await rm(outDir, { recursive: true, force: true });
    },
  };
}
