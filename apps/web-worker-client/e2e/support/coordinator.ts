import { fileURLToPath } from 'node:url';
import { TestCoordinator } from '@vtrain/coordinator/harness';

/** The web client as `pnpm build` leaves it; the e2e tests serve exactly what production serves. */
export const WEB_ROOT = fileURLToPath(new URL('../../dist', import.meta.url));

/** The coordinator's own test harness (port 0, a fresh data folder), serving the built pages. */
export function startTestCoordinator(): Promise<TestCoordinator> {
  return TestCoordinator.start({ webRoot: WEB_ROOT });
}

export type { TestCoordinator };

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
