export * from './config/schema.js';
export * from './auth/principal.js';
