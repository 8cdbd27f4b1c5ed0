// @ts-check
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

/**
 * The pure packages (`protocol`, `optimizer`) must run unchanged in Node, in a
 * browser tab and in a Web Worker, and must be testable with plain arrays. So
 * they may not reach for Node, the DOM, socket.io or tfjs, and the optimizer
 * may not read a clock or draw random numbers: those are passed in.
 */
const forbiddenInPurePackages = {
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        { group: ['node:*'], message: 'Pure packages may not import Node built-ins.' },
        {
          group: ['socket.io', 'socket.io-*', 'engine.io*'],
          message: 'Pure packages may not import socket.io; the apps translate messages.',
        },
        { group: ['@tensorflow/*'], message: 'Pure packages may not import tfjs.' },
        { group: ['react', 'react-*', 'vite'], message: 'Pure packages may not import UI code.' },
      ],
      paths: [
        'fs',
        'path',
        'os',
        'crypto',
        'events',
        'stream',
        'buffer',
        'util',
        'worker_threads',
        'child_process',
        'http',
        'https',
        'net',
        'url',
        'zlib',
        'perf_hooks',
        'timers',
      ].map((name) => ({ name, message: 'Pure packages may not import Node built-ins.' })),
    },
  ],
  'no-restricted-globals': [
    'error',
    ...[
      'window',
      'document',
      'navigator',
      'self',
      'globalThis',
      'localStorage',
      'indexedDB',
      'fetch',
      'WebSocket',
      'Worker',
      'process',
      'Buffer',
      'require',
      'module',
      '__dirname',
      'setTimeout',
      'setInterval',
      'performance',
      'crypto',
    ].map((name) => ({
      name,
      message: `'${name}' is host-specific; pure packages take what they need as arguments.`,
    })),
  ],
};

const noClockOrRandomness = {
  'no-restricted-properties': [
    'error',
    { object: 'Math', property: 'random', message: 'Pass a seeded random source in.' },
    { object: 'Date', property: 'now', message: 'Pass the time in; schedules take a clock value.' },
  ],
};

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/coverage/**', '**/node_modules/**', '**/.turbo/**', 'data/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: ['*.js', '*.mjs', '*.ts'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'Use `as const` objects, not enums.' },
      ],
    },
  },
  {
    files: ['packages/protocol/src/**/*.ts', 'packages/optimizer/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: forbiddenInPurePackages,
  },
  {
    files: ['packages/optimizer/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      ...noClockOrRandomness,
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'Use `as const` objects, not enums.' },
        { selector: "NewExpression[callee.name='Date']", message: 'Pass the time in.' },
      ],
    },
  },
  {
    files: ['apps/web-worker-client/src/**/*.{ts,tsx}'],
    ...reactHooks.configs.flat['recommended-latest'],
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
