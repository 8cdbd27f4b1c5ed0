import Bowser from 'bowser';

/** What a dashboard may show of a volunteer's software: families, never the raw string. */
export interface ClientFamilies {
  /** "Chrome 131", "Firefox 133", "Node.js 20"; "" when unknown. */
  readonly browser: string;
  /** "Windows", "macOS", "Linux", "Android"...; "" when unknown. */
  readonly os: string;
}

/** Longest family name kept (the protocol allows 60); a longer one is someone's free text. */
const MAX_FAMILY = 40;

/** The headless worker's description: `vtrain-worker, Node v20.19.0 on linux x64`. */
const NODE_WORKER = /^vtrain-worker, Node v(\d{1,3})\.[\w.-]* on ([a-z0-9]{1,20})\b/;

const NODE_PLATFORMS: Readonly<Record<string, string>> = {
  linux: 'Linux',
  darwin: 'macOS',
  win32: 'Windows',
  freebsd: 'FreeBSD',
  openbsd: 'OpenBSD',
  android: 'Android',
};

/**
 * Reduces the description a worker sent in `hello` (a browser's full user agent, or the
 * headless worker's line) to its browser family with the major version and its OS family.
 * A full user agent, with its minor versions, device model and add-on tokens, narrows a
 * volunteer down far more than the table needs; the families are what a researcher reads
 * speeds and failures by. Anything unrecognised becomes "" rather than being echoed.
 */
export function clientFamilies(kind: 'browser' | 'node', description: string): ClientFamilies {
  if (kind === 'node') {
    const match = NODE_WORKER.exec(description);
    if (!match) return { browser: 'Node.js', os: '' };
    return { browser: `Node.js ${match[1] ?? ''}`, os: NODE_PLATFORMS[match[2] ?? ''] ?? '' };
  }
  if (description.trim() === '') return { browser: '', os: '' };
  let parsed: Bowser.Parser.ParsedResult;
  try {
    parsed = Bowser.parse(description);
  } catch {
    return { browser: '', os: '' }; // bowser throws on what it cannot read at all
  }
  const major = /^\d{1,4}/.exec(parsed.browser.version ?? '')?.[0];
  const name = parsed.browser.name ?? '';
  return {
    browser: family(name === '' ? '' : major === undefined ? name : `${name} ${major}`),
    os: family(parsed.os.name ?? ''),
  };
}

function family(text: string): string {
  return text.length > MAX_FAMILY ? '' : text;
}
