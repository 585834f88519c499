export * from './config.js';
export { createMcpServer, render, visibleTools, toolDefinition, type ServerDeps, type RequestState } from './server.js';
export { createWorkerHttpServer } from './http/app.js';
export { Authenticator, AuthFailure } from './http/auth.js';
export { AssertionVerifier } from './identity/impersonation.js';
export { ClientFactory } from './k8s/clients.js';
export { DiscoveryCache } from './k8s/discovery.js';
export { ALL_TOOLS, buildRegistry } from './tools/index.js';
