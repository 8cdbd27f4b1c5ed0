export * from './version.js';
export * from './validation.js';
export * from './run-config.js';
export * from './messages.js';
export * from './dashboard.js';
export * from './events.js';
export * from './codec/index.js';
export * from './limits.js';
