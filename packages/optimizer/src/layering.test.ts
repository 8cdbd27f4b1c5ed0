import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

// The layering rule of the house: `protocol` and `optimizer` run unchanged in
// Node, a tab and a Web Worker, so they may not import hosts' APIs, and the
// optimizer takes time and randomness as arguments. This lints sample code as
// if it were a source file of each package, with the repository's real config.
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const eslint = new ESLint({ cwd: repoRoot });

async function ruleIdsFor(code: string, filePath: string): Promise<string[]> {
  const results = await eslint.lintText(code, { filePath });
  return results.flatMap((result) => result.messages.map((m) => m.ruleId ?? m.message));
}

const sources = ['packages/protocol/src/index.ts', 'packages/optimizer/src/index.ts'];

describe('pure packages', () => {
  it.each(sources)('%s may not import Node, socket.io, tfjs or UI code', async (filePath) => {
    const imports = [
      "import { readFileSync } from 'node:fs';",
      "import { createHash } from 'crypto';",
      "import { Server } from 'socket.io';",
      "import { io } from 'socket.io-client';",
      "import * as tf from '@tensorflow/tfjs';",
      "import { useState } from 'react';",
    ];
    for (const line of imports) {
      expect(await ruleIdsFor(`${line}\n`, filePath), line).toContain('no-restricted-imports');
    }
  });

  it.each(sources)('%s may not touch host globals', async (filePath) => {
    for (const global of ['window', 'document', 'navigator', 'process', 'Buffer', 'performance']) {
      const code = `export const host: unknown = ${global};\n`;
      expect(await ruleIdsFor(code, filePath), global).toContain('no-restricted-globals');
    }
  });

  it('the optimizer may not read a clock or draw random numbers', async () => {
    const filePath = 'packages/optimizer/src/index.ts';
    expect(await ruleIdsFor('export const r = Math.random();\n', filePath)).toContain(
      'no-restricted-properties',
    );
    expect(await ruleIdsFor('export const t = Date.now();\n', filePath)).toContain(
      'no-restricted-properties',
    );
    expect(await ruleIdsFor('export const d = new Date();\n', filePath)).toContain(
      'no-restricted-syntax',
    );
  });

  it('plain typed-array code passes', async () => {
    const code = 'export const zeros = (n: number): Float32Array => new Float32Array(n);\n';
    for (const filePath of sources) expect(await ruleIdsFor(code, filePath)).toEqual([]);
  });
});
