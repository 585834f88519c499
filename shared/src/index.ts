export * from './logger.js';
export * from './identity/assertion.js';
