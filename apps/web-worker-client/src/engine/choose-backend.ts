import type { Backend } from '@vtrain/protocol';
import type { BackendChoice } from '@vtrain/worker';

/** One backend to try: `init` makes it the active one, or says why it cannot be. */
export interface BackendCandidate {
  readonly name: Backend;
  /** Resolves undefined once the backend is active, or the reason it is not usable. */
  readonly init: () => Promise<string | undefined>;
}

/**
 * Tries the candidates in order (best first) and keeps the first that
 * initialises; the choice carries, for each better backend skipped, why, so
 * the page can tell a volunteer "WebGL, because WebGPU: no adapter".
 *
 * @throws Error naming every reason when none initialises.
 */
export async function chooseBackend(
  candidates: readonly BackendCandidate[],
): Promise<BackendChoice> {
  const skipped: string[] = [];
  for (const candidate of candidates) {
    let reason: string | undefined;
    try {
      reason = await candidate.init();
    } catch (error) {
      reason = error instanceof Error ? error.message : String(error);
    }
    if (reason === undefined) {
      return skipped.length === 0
        ? { name: candidate.name }
        : { name: candidate.name, reason: skipped.join('; ') };
    }
    skipped.push(`${candidate.name}: ${reason}`);
  }
  throw new Error(`no tfjs backend could initialise (${skipped.join('; ')})`);
}
