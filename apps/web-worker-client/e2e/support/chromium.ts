import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Where Debian's `chromium` package puts the browser. */
export const DEBIAN_CHROMIUM_PATH = '/usr/bin/chromium';

/** Debian's Chromium (`apt-get install chromium`); CHROMIUM_PATH overrides it. Never a downloaded browser. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? DEBIAN_CHROMIUM_PATH;

/**
 * Flags for headless Chromium as root on a closed network
 * (docs/architecture.md#webgpu-in-headless-chromium): no
 * sandbox, no background connections; WebGPU on (SwiftShader without a GPU).
 */
const FLAGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Background tabs keep full-speed timers: two contribute tabs train side by side.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

/** Starts headless Chromium; a missing browser is an error, never a skip (CI must run these tests). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}: the e2e global set-up (e2e/support/provision-chromium.ts) installs it; or apt-get install chromium, or set CHROMIUM_PATH`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: FLAGS });
}
