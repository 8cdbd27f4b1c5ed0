import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The built coordinator (`pnpm --filter @vtrain/coordinator build`; turbo builds it before the tests). */
export const COORDINATOR_MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

/** A port that was free a moment ago: a restarted coordinator must come back on the same one. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/**
 * The coordinator as its own process (`node dist/main.js`), as production runs
 * it; resolves once it listens. SIGKILL it to crash it.
 */
export async function spawnCoordinator(options: {
  port: number;
  dataDir: string;
  token: string;
  webRoot?: string;
}): Promise<ChildProcess> {
  if (!existsSync(COORDINATOR_MAIN)) {
    throw new Error(
      `${COORDINATOR_MAIN} is missing: run "pnpm --filter @vtrain/coordinator build"`,
    );
  }
  const child = spawn(process.execPath, [COORDINATOR_MAIN, '--no-demo'], {
    env: {
      ...process.env,
      PORT: String(options.port),
      DATA_DIR: options.dataDir,
      COORDINATOR_TOKEN: options.token,
      ...(options.webRoot === undefined ? {} : { WEB_ROOT: options.webRoot }),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('listening on')) {
        child.stdout.off('data', onData);
        child.stdout.resume(); // keep draining, so the child never blocks on a full pipe
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => {
      reject(new Error(`coordinator exited with ${code} before listening:\n${output}`));
    });
  });
  return child;
}

/** SIGKILL: no shutdown handler runs, no final checkpoint is written. */
export function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    child.once('exit', () => {
      resolve();
    });
    child.kill('SIGKILL');
  });
}
