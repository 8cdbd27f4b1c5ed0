export * from './numeric.js';
export * from './schedule/index.js';
