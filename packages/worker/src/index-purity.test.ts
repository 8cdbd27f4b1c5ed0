import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const sourceDirectory = path.dirname(fileURLToPath(import.meta.url));
const IMPORT = /(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/g;

/** Every module specifier reachable from `entry` through relative imports, and the files walked. */
function reachable(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      if (specifier.startsWith('.')) {
        visit(path.resolve(path.dirname(file), specifier.replace(/\.js$/, '.ts')));
      } else {
        packages.add(specifier);
      }
    }
  };
  visit(path.join(sourceDirectory, entry));
  return { files, packages };
}

describe('the browser entry (index.ts)', () => {
  it('reaches only browser-safe packages: no Node built-in, no @vtrain/ml/node, no wasm backend', () => {
    const { files, packages } = reachable('index.ts');
    expect(files.size).toBeGreaterThan(10);
    expect([...files].some((file) => path.basename(file).startsWith('cli'))).toBe(false);
    expect([...packages].sort()).toEqual([
      '@tensorflow/tfjs',
      '@vtrain/ml',
      '@vtrain/optimizer',
      '@vtrain/protocol',
      'socket.io-client',
    ]);
  });

  it('leaves Node to the CLI', () => {
    const { packages } = reachable('cli.ts');
    expect(packages.has('node:child_process')).toBe(true);
    expect(packages.has('@vtrain/ml/node')).toBe(true);
  });
});
