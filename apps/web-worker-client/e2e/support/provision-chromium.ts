import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CHROMIUM_PATH, DEBIAN_CHROMIUM_PATH } from './chromium.js';

/** How long apt-get may wait for another package manager holding the dpkg lock. */
const DPKG_LOCK_TIMEOUT_S = 600;

/**
 * Makes sure the browser tests have a Chromium, so that the README's test
 * command passes on a fresh machine by itself. A missing browser is installed
 * from Debian's `chromium` package (never a downloaded browser build) when we
 * are root on Debian; anywhere else we stop with one line that says what to
 * install. Runs once per test run, as the e2e project's global set-up, and
 * before the browser benchmark.
 */
export function provisionChromium(log: (line: string) => void = console.log): void {
  if (existsSync(CHROMIUM_PATH)) return;
  if (CHROMIUM_PATH !== DEBIAN_CHROMIUM_PATH) {
    throw new Error(`CHROMIUM_PATH is ${CHROMIUM_PATH}, which does not exist`);
  }
  const obstacle = installObstacle();
  if (obstacle !== undefined) {
    throw new Error(
      `the browser tests need Chromium at ${CHROMIUM_PATH}, and ${obstacle}: ` +
        `install Debian's package (sudo apt-get install chromium) or set CHROMIUM_PATH`,
    );
  }

  const started = Date.now();
  log(`browser tests: no Chromium at ${CHROMIUM_PATH}; installing Debian's chromium with apt-get`);
  aptGet(['update', '-qq'], log);
  aptGet(['install', '-y', '-qq', '--no-install-recommends', 'chromium'], log);
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`apt-get installed chromium, but ${CHROMIUM_PATH} is still missing`);
  }
  const version = spawnSync(CHROMIUM_PATH, ['--version'], { encoding: 'utf8' }).stdout.trim();
  log(`browser tests: ${version} installed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/** Why this process cannot install a Debian package itself, or undefined if it can. */
function installObstacle(): string | undefined {
  if (!existsSync('/etc/debian_version')) return 'this is not a Debian system';
  if (spawnSync('apt-get', ['--version']).status !== 0) return 'apt-get is not available';
  if (process.getuid?.() !== 0) return 'installing it needs root';
  return undefined;
}

/** Runs apt-get quietly; on failure its own output is the error, since it says what went wrong. */
function aptGet(args: readonly string[], log: (line: string) => void): void {
  log(`browser tests: apt-get ${args.join(' ')}`);
  const result = spawnSync(
    'apt-get',
    ['-o', `DPkg::Lock::Timeout=${DPKG_LOCK_TIMEOUT_S}`, ...args],
    {
      encoding: 'utf8',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  if (result.status !== 0) {
    const output = `${result.stdout}${result.stderr}`.trim().split('\n').slice(-20).join('\n');
    throw new Error(`apt-get ${args.join(' ')} failed (exit ${result.status}):\n${output}`);
  }
}

/** Vitest global set-up of the e2e project: a browser we cannot provide ends the run with one line, not a stack. */
export default function setup(): void {
  try {
    provisionChromium();
  } catch (error) {
    console.error(`browser tests: ${(error as Error).message}`);
    process.exit(1);
  }
}
